// Package metric is the datum cloudbox publishes on its own behalf (AWS/EC2,
// AWS/ApplicationELB, AWS/AutoScaling), shared by its producers (the
// controllers, Auto Scaling) and CloudWatch, which stores it, so neither
// side imports the other.
package metric

import "time"

// Datum is one value of a built-in metric.
type Datum struct {
	Name       string
	Dimensions map[string]string
	Value      float64
	Unit       string    // a StandardUnit; "" means None
	Time       time.Time // virtual time; zero means now
}

// Publisher records built-in metrics (CloudWatch implements it).
type Publisher interface {
	Publish(account, region, namespace string, data []Datum) error
}
