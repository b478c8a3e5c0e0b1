package classify_test

import (
	"context"
	"fmt"

	"github.com/lmsys-go/lmsys"
	"github.com/lmsys-go/lmsys/classify"
)

// Every built-in answers its facets for a whole conversation, offline and free.
func ExampleBuiltins() {
	c := lmsys.Conversation{QueryID: 7, Messages: []lmsys.Message{
		{Role: lmsys.RoleUser, Content: "Écris une fonction Python qui inverse une chaîne de caractères."},
		{Role: lmsys.RoleAssistant, Content: "```python\ndef inverse(s):\n    return s[::-1]\n```"},
		{Role: lmsys.RoleUser, Content: "Non, je voulais dire sans utiliser le découpage."},
	}}
	for _, cl := range classify.Builtins() {
		answers, _, err := cl.Classify(context.Background(), c)
		if err != nil {
			panic(err)
		}
		for _, a := range answers {
			fmt.Printf("%s=%s ", a.Facet, a.Value)
		}
	}
	fmt.Println()
	// Output: refusal=complied pushback=corrects code=reply code_language=python language=fr turns=2 length=short
}

// Builtin looks one classifier up by name; its result key identifies its labels.
func ExampleBuiltin() {
	cl, err := classify.Builtin("refusal")
	if err != nil {
		panic(err)
	}
	fmt.Println(cl.ResultKey(), cl.Template().Source)
	_, err = classify.Builtin("mood")
	fmt.Println(err)
	// Output:
	// builtin:refusal@2 builtin
	// invalid input: unknown built-in classifier "mood" (known: refusal, pushback, code, language, turns, length)
}

// Refusal labels one assistant reply, in any of the covered languages.
func ExampleRefusal() {
	fmt.Println(classify.Refusal("I'm sorry, but I can't help with that."))
	fmt.Println(classify.Refusal("Lo siento, pero no puedo ayudarte con eso."))
	fmt.Println(classify.Refusal("I can't write that essay for you, but here is an outline:\n\n1. Introduce the question and why it matters.\n2. Give the two main arguments with one source each.\n3. Weigh them and conclude."))
	fmt.Println(classify.Refusal("Sure! Paris is the capital of France."))
	// Output:
	// refused
	// refused
	// partial
	// complied
}

// Code finds fenced and unfenced code and names its language.
func ExampleCode() {
	c := lmsys.Conversation{Messages: []lmsys.Message{
		{Role: lmsys.RoleUser, Content: "why is this slow?\n\nfor i in range(len(xs)):\n    total += xs[i]"},
		{Role: lmsys.RoleAssistant, Content: "Use the built-in: `sum(xs)`."},
	}}
	fmt.Println(classify.Code(c))
	// Output: request python
}
