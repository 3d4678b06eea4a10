// Package config holds the server's settings and the one place they are
// read and checked.
//
// Load builds a Config in four layers, each overriding the one before:
//
//	defaults (Default) < YAML file < environment < flags
//
// The file is named by -config PATH or else by CAIQUAN_CONFIG. Every
// setting has one name in three spellings: round_time in the file,
// CAIQUAN_ROUND_TIME in the environment, -round-time on the command line.
// Durations are Go duration strings ("3s", "250ms"); lists are YAML
// sequences in the file and comma-separated elsewhere. An empty environment
// variable counts as unset.
//
// Every wrong value stops start-up: an unknown key, a value that does not
// parse, or one that Validate rejects gives an error that names the setting
// (and, for a value that does not parse, where it came from). The server
// never starts on a silently corrected or ignored setting.
package config
