package daemon

import (
	"encoding/json"
	"net/http"
	"strconv"

	"github.com/cloudbox/cloudbox/desired"
	"github.com/cloudbox/cloudbox/reachability"
)

// reachability answers GET /_cloudbox/reachability?from=&to=&protocol=&port=
// (`cloudbox reach`) from the world as the services declare it now: the
// same desired.World the data plane compiles into the kernel.
func (d *Daemon) reachability(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	port := 0
	if p := q.Get("port"); p != "" {
		var err error
		if port, err = strconv.Atoi(p); err != nil {
			reachError(w, "port "+strconv.Quote(p)+": not a number")
			return
		}
	}
	world, err := desired.Snapshot(d.store, provided[desired.Contributor](d.built)...)
	if err != nil {
		d.cfg.Logger.Error("reachability: reading the world", "error", err)
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	res, err := reachability.Analyze(world, reachability.Query{From: q.Get("from"), To: q.Get("to"), Protocol: q.Get("protocol"), Port: port})
	if err != nil {
		reachError(w, err.Error())
		return
	}
	writeJSON(w, res)
}

func reachError(w http.ResponseWriter, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusBadRequest)
	json.NewEncoder(w).Encode(map[string]string{"error": msg})
}
