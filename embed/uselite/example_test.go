package uselite_test

import (
	"context"
	"fmt"

	"github.com/lmsys-go/lmsys"
	"github.com/lmsys-go/lmsys/embed/uselite"
)

func dot(a, b []float32) float32 {
	var s float32
	for i := range a {
		s += a[i] * b[i]
	}
	return s
}

func ExampleModel_Embed() {
	m, err := uselite.New() // decodes the embedded weights once; offline
	if err != nil {
		panic(err)
	}
	vecs, err := m.Embed(context.Background(), []string{
		"How do I reset my password?",
		"I forgot my login credentials",
		"Best recipe for chocolate chip cookies",
	}, lmsys.PurposeClustering)
	if err != nil {
		panic(err)
	}
	fmt.Println(m.Space(), len(vecs), len(vecs[0]))
	// Vectors are unit length, so the dot product is the cosine similarity.
	fmt.Println("password ~ login:", dot(vecs[0], vecs[1]) > dot(vecs[0], vecs[2]))
	fmt.Println(m.Tokenize("How do I reset my password?"))
	// Output:
	// local/use-lite@512 3 512
	// password ~ login: true
	// [728 64 16 137 1383 69 5969 54]
}
