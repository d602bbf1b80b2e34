// Package servertest holds the tests of package client that run against a
// real Hookgate API and store, on SQLite and PostgreSQL.
//
// They live apart from package client so that a program importing client
// does not pull the server's dependencies: `go mod tidy` follows the
// imports of the tests of every package a program imports, and these tests
// import the server. Package client's own tests import the standard
// library only and run the server as a separate process.
package servertest
