package actors_test

import (
	"testing"

	"github.com/caiquan/caiquan/actors"
	"github.com/caiquan/caiquan/internal/storetest"
)

func TestMemoryStore(t *testing.T) {
	storetest.Run(t, func(t *testing.T) (actors.Store, func() actors.Store) {
		s := actors.NewMemoryStore()
		return s, func() actors.Store { return s }
	})
}
