package etcddriver

import "fmt"

// DiscardLogger drops etcd raft's log lines, as tickraft's default Logger
// does, except that Fatal and Panic still stop the run (they panic).
type DiscardLogger struct{}

// The methods of DiscardLogger are those of etcd raft's Logger.

func (DiscardLogger) Debug(...any)            {}
func (DiscardLogger) Debugf(string, ...any)   {}
func (DiscardLogger) Error(...any)            {}
func (DiscardLogger) Errorf(string, ...any)   {}
func (DiscardLogger) Info(...any)             {}
func (DiscardLogger) Infof(string, ...any)    {}
func (DiscardLogger) Warning(...any)          {}
func (DiscardLogger) Warningf(string, ...any) {}

func (DiscardLogger) Fatal(v ...any)                 { panic(fmt.Sprint(v...)) }
func (DiscardLogger) Fatalf(format string, v ...any) { panic(fmt.Sprintf(format, v...)) }
func (DiscardLogger) Panic(v ...any)                 { panic(fmt.Sprint(v...)) }
func (DiscardLogger) Panicf(format string, v ...any) { panic(fmt.Sprintf(format, v...)) }
