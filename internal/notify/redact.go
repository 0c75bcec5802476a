package notify

import "net/url"

// redactURL hides what chat webhook URLs carry in their path and query
// (the token), keeping the scheme and host for error messages.
func redactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil || u.Host == "" {
		return s
	}
	if u.Path == "" && u.RawQuery == "" && u.User == nil {
		return s
	}
	return u.Scheme + "://" + u.Host + "/***"
}
