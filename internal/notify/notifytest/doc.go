// Package notifytest has receivers for tests of notifications: a webhook
// sink on loopback that records what it is sent, checks the signature and
// answers as scripted (429 with Retry-After, 500, 400), and a "dead"
// receiver whose port accepts connections and never answers.
package notifytest
