package main

import (
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"
)

// basicAuth guards the server with one user name and password.
type basicAuth struct {
	user string
	// The SHA-256 of "user:password": comparing fixed-size digests in
	// constant time gives away neither the password nor its length.
	sum [32]byte
}

func parseAuth(s string) (*basicAuth, error) {
	user, pass, ok := strings.Cut(s, ":")
	switch {
	case !ok:
		return nil, errors.New("want USER:PASSWORD")
	case user == "" || pass == "":
		return nil, errors.New("want a non-empty USER and PASSWORD")
	}
	return &basicAuth{user: user, sum: sha256.Sum256([]byte(user + ":" + pass))}, nil
}

func readAuthFile(path string) (*basicAuth, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	line, _, _ := strings.Cut(string(b), "\n")
	a, err := parseAuth(strings.TrimRight(line, "\r"))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return a, nil
}

// wrap returns next behind the password, except for the open paths (a load
// balancer's health check has no credentials).
func (a *basicAuth) wrap(next http.Handler, open ...string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for _, p := range open {
			if r.URL.Path == p {
				next.ServeHTTP(w, r)
				return
			}
		}
		user, pass, ok := r.BasicAuth()
		got := sha256.Sum256([]byte(user + ":" + pass))
		if !ok || subtle.ConstantTimeCompare(got[:], a.sum[:]) != 1 {
			w.Header().Set("WWW-Authenticate", `Basic realm="slidestream", charset="UTF-8"`)
			http.Error(w, "authentication required", http.StatusUnauthorized)
			return
		}
		next.ServeHTTP(w, r)
	})
}
