package controller

// MergeFrom lets the black-box tests check mergeFrom against a real API
// server.
var MergeFrom = mergeFrom

// Gone is gone, for the same tests.
var Gone = gone
