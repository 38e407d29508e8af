// Package datadriven reads, runs and rewrites transcript tests: text files in
// which each case is a command, its input and the output the command is
// expected to print.
//
// The package parses a transcript into [TestData] blocks, hands each block in
// file order to a function the test supplies, and compares what that function
// returns with the output recorded in the file. It never interprets commands
// itself: their meaning belongs to the harness that calls [RunTest]. Apart
// from reading and (when asked to) rewriting the transcript, it does no I/O,
// starts no goroutines, reads no clock and uses no randomness, so a transcript
// run is as deterministic as the harness behind it.
//
// # Blocks
//
// A transcript is a sequence of blocks. A block is, line by line:
//
//	# comment lines                      zero or more, kept verbatim on rewrite
//	command arg key=value key=(v1,v2)    the directive
//	input lines                          zero or more, none of them blank
//	----                                 the separator
//	expected output lines                zero or more, none of them blank
//	                                     a blank line, or the end of the file
//
// Blank lines and comment lines may appear between blocks; a line is blank
// when it holds nothing but spaces and tabs, and it is a comment when its
// first other character is '#'. Comment and blank lines after the last block
// are kept as well. Input lines are taken as they are, so an input line may
// start with '#'; a blank line is not allowed before the separator, which is
// how a block that lost its separator is caught.
//
// # Directives
//
// The directive's first word is the command ([TestData.Cmd]). The words after
// it are arguments ([CmdArg]), separated by spaces or tabs, in three forms:
//
//	campaign 1              a bare word: Key "1", no values (Vals is nil)
//	propose index=5         one value: Key "index", Vals ["5"]
//	add voters=(1,2,3)      a list: Key "voters", Vals ["1" "2" "3"]
//	add learners=()         an empty list: Key "learners", Vals [] (not nil)
//
// Spaces around list items are dropped, so "voters=(1, 2, 3)" reads as the
// list above. [TestData.ScanArgs] converts values to Go types.
//
// # Output with blank lines
//
// Output ends at the first blank line, so output that itself holds blank
// lines is written between doubled separators: the directive and input, a
// "----" line, a second "----" line, the output (blank lines allowed), two
// "----" lines that close it, and then the blank line that ends the block:
//
//	echo repeat=2
//	hi
//	----
//	----
//	hi
//
//	hi
//	----
//	----
//
// The rewriter picks the doubled form by itself when an output has a blank
// line (or starts with a "----" line, which would otherwise read as a second
// separator), and keeps it for a block that already used it. An output in
// which two "----" lines are adjacent, or whose last line is "----", cannot be
// written in either form; [Rewrite] reports an error for it.
//
// # Comparing output
//
// Before comparing, both the recorded and the actual output are brought to
// end in exactly one newline: trailing newlines are dropped and one is added
// back, unless the output is empty. A harness may therefore return "6" or
// "6\n" alike, and an empty string is a valid, checked output.
//
// # Rewriting
//
// When the environment variable TICKRAFT_REWRITE is set to a non-empty value,
// [RunTest] does not compare outputs: it writes the actual outputs into the
// file in place of the recorded ones, keeping comments, directives, input and
// the blank lines between blocks as they were. Regenerate every transcript of
// the module and review what changed with:
//
//	TICKRAFT_REWRITE=1 go test ./...
//	git diff
//
// The diff is the review: a changed output is a changed behaviour.
//
// # Use without a test
//
// [Parse] and [ParseFile] read a transcript into blocks and [Rewrite] turns
// blocks and outputs back into bytes; none of them needs a [testing.T], so
// tools that replay transcripts can use them directly.
package datadriven
