// Package password hashes and checks local account passwords with argon2id
// (RFC 9106), stored in the PHC string format
// "$argon2id$v=19$m=65536,t=2,p=2$salt$hash".
package password
