package datadriven

// These give the external tests the internals they check.
var (
	CompareOutput = compareOutput
)

// RewriteEnv is the name of the variable that turns checking into rewriting.
const RewriteEnv = rewriteEnv
