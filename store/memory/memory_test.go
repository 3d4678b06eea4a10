package memory_test

import (
	"testing"

	"github.com/caiquan/caiquan"
	"github.com/caiquan/caiquan/internal/testing/storetest"
	"github.com/caiquan/caiquan/store/memory"
)

func TestStore(t *testing.T) {
	storetest.Run(t, func(t *testing.T) (caiquan.Store, func() caiquan.Store) {
		s := memory.New()
		return s, func() caiquan.Store { return s }
	})
}
