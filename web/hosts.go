package web

import (
	"net"
	"net/http"
	"strconv"
	"strings"
)

// DNS rebinding: a page on evil.example whose name the attacker points at
// this machine's address becomes same-origin with it, and a browser on the
// home network sends its commands with Origin and Host both evil.example.
// Cross-origin checks cannot see that; the Host header can. Commands are
// obeyed only for the names a screen or a phone really uses: an address,
// localhost, a .local name (mDNS), the machine's host name, and those an
// operator lists (--allowed-hosts).

// hostAllowed reports whether the Host of a request (with or without a
// port) is one that commands may be sent to. An entry of allowed (as
// hostName writes it) matches the name exactly, or every name under it
// when it starts with "." (written "*.example.com" or ".example.com").
func hostAllowed(host string, allowed []string) bool {
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	host = hostName(strings.Trim(host, "[]"))
	if host == "" {
		return false
	}
	if net.ParseIP(host) != nil || host == "localhost" || strings.HasSuffix(host, ".localhost") || strings.HasSuffix(host, ".local") {
		return true
	}
	for _, a := range allowed {
		if a == host || (strings.HasPrefix(a, ".") && strings.HasSuffix(host, a)) {
			return true
		}
	}
	return false
}

// hostName is a name as hosts are compared: lower case, without a final
// dot or a leading "*".
func hostName(s string) string {
	return strings.TrimPrefix(strings.TrimSuffix(strings.ToLower(s), "."), "*")
}

// checkHost refuses requests whose Host names this machine by a name no
// one here gave it (403, with the reason).
func checkHost(next http.Handler, allowed []string) http.Handler {
	names := make([]string, len(allowed))
	for i, a := range allowed {
		names[i] = hostName(a)
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !hostAllowed(r.Host, names) {
			http.Error(w, "commands are not taken for the host name "+quoteName(r.Host)+
				": use the address, localhost, a .local name or the machine's name, or add it to --allowed-hosts", http.StatusForbidden)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// quoteName quotes a name from a request for a message, control
// characters escaped and at most 100 bytes of it.
func quoteName(s string) string {
	if len(s) > 100 {
		s = s[:100] + "…"
	}
	return strconv.Quote(s)
}
