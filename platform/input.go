package platform

import (
	"github.com/wims/wims"
	"github.com/wims/wims/transform"
)

// compileInput checks a target's input transformation and compiles it.
func compileInput(t wims.Target) (*transform.Transformer, error) { return transform.Compile(t) }
