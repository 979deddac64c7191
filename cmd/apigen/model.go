package main

import (
	"encoding/json"
	"os"
)

// model is the subset of an AWS api-2.json file the generator reads. The
// protocol tests use the same shape language, so they share these types.
type model struct {
	Metadata   metadata              `json:"metadata"`
	Operations map[string]*operation `json:"operations"`
	Shapes     map[string]*shape     `json:"shapes"`
}

type metadata struct {
	APIVersion         string          `json:"apiVersion"`
	EndpointPrefix     string          `json:"endpointPrefix"`
	Protocol           string          `json:"protocol"`
	ServiceID          string          `json:"serviceId"`
	SigningName        string          `json:"signingName"`
	TargetPrefix       string          `json:"targetPrefix"`
	JSONVersion        string          `json:"jsonVersion"`
	XMLNamespace       string          `json:"xmlNamespace"`
	AWSQueryCompatible json.RawMessage `json:"awsQueryCompatible"`
}

type operation struct {
	Name string `json:"name"`
	HTTP struct {
		Method       string `json:"method"`
		RequestURI   string `json:"requestUri"`
		ResponseCode int    `json:"responseCode"`
	} `json:"http"`
	Input    *opRef `json:"input"`
	Output   *opRef `json:"output"`
	Endpoint *struct {
		HostPrefix string `json:"hostPrefix"`
	} `json:"endpoint"`
	Deprecated bool `json:"deprecated"`
}

type opRef struct {
	Shape         string     `json:"shape"`
	LocationName  string     `json:"locationName"`
	ResultWrapper string     `json:"resultWrapper"`
	Payload       string     `json:"payload"`
	XMLNamespace  *namespace `json:"xmlNamespace"`
}

type namespace struct {
	Prefix string `json:"prefix"`
	URI    string `json:"uri"`
}

type shape struct {
	Type            string             `json:"type"`
	Members         map[string]*member `json:"members"`
	Required        []string           `json:"required"`
	Payload         string             `json:"payload"`
	Member          *member            `json:"member"`
	Key             *member            `json:"key"`
	Value           *member            `json:"value"`
	Enum            []string           `json:"enum"`
	Flattened       bool               `json:"flattened"`
	Location        string             `json:"location"`
	LocationName    string             `json:"locationName"`
	TimestampFormat string             `json:"timestampFormat"`
	XMLNamespace    *namespace         `json:"xmlNamespace"`
	Exception       bool               `json:"exception"`
	Fault           bool               `json:"fault"`
	Error           *struct {
		Code           string `json:"code"`
		HTTPStatusCode int    `json:"httpStatusCode"`
		SenderFault    bool   `json:"senderFault"`
	} `json:"error"`
	Streaming   bool     `json:"streaming"`
	EventStream bool     `json:"eventstream"`
	Min         *float64 `json:"min"`
	Max         *float64 `json:"max"`
}

type member struct {
	Shape           string     `json:"shape"`
	Location        string     `json:"location"`
	LocationName    string     `json:"locationName"`
	QueryName       string     `json:"queryName"`
	Flattened       bool       `json:"flattened"`
	XMLAttribute    bool       `json:"xmlAttribute"`
	XMLNamespace    *namespace `json:"xmlNamespace"`
	TimestampFormat string     `json:"timestampFormat"`
	JSONValue       bool       `json:"jsonvalue"`
	HostLabel       bool       `json:"hostLabel"`
	IdempotencyTok  bool       `json:"idempotencyToken"`
	Streaming       bool       `json:"streaming"`
}

func loadModel(path string) (*model, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var m model
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, err
	}
	return &m, nil
}
