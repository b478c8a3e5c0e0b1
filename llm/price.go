package llm

import "strings"

// Price is what a model costs, in US dollars per million tokens.
type Price struct {
	InputPerM  float64 `json:"input_per_million"`
	OutputPerM float64 `json:"output_per_million"`
}

// Cost returns the price of in input and out output tokens.
func (p Price) Cost(in, out int64) float64 {
	return (float64(in)*p.InputPerM + float64(out)*p.OutputPerM) / 1e6
}

// prices lists list prices (USD per million tokens, as published by the providers in
// 2025) by model name prefix; the longest matching prefix wins.
var prices = map[string]Price{
	"openai/gpt-4o-mini":           {0.15, 0.60},
	"openai/gpt-4o":                {2.50, 10},
	"openai/gpt-4.1-nano":          {0.10, 0.40},
	"openai/gpt-4.1-mini":          {0.40, 1.60},
	"openai/gpt-4.1":               {2, 8},
	"openai/gpt-5-nano":            {0.05, 0.40},
	"openai/gpt-5-mini":            {0.25, 2},
	"openai/gpt-5":                 {1.25, 10},
	"openai/gpt-3.5-turbo":         {0.50, 1.50},
	"openai/o4-mini":               {1.10, 4.40},
	"anthropic/claude-3-haiku":     {0.25, 1.25},
	"anthropic/claude-3-5-haiku":   {0.80, 4},
	"anthropic/claude-haiku-4":     {1, 5},
	"anthropic/claude-3-5-sonnet":  {3, 15},
	"anthropic/claude-3-7-sonnet":  {3, 15},
	"anthropic/claude-sonnet-4":    {3, 15},
	"anthropic/claude-opus-4-5":    {5, 25},
	"anthropic/claude-opus-4":      {15, 75},
	"groq/llama-3.1-8b-instant":    {0.05, 0.08},
	"groq/llama-3.3-70b-versatile": {0.59, 0.79},
}

// PriceOf returns the list price of a "provider/model" string; local models (ollama/…)
// and unknown models cost 0.
func PriceOf(model string) Price {
	best, bestLen := Price{}, 0
	for prefix, p := range prices {
		if strings.HasPrefix(model, prefix) && len(prefix) > bestLen {
			best, bestLen = p, len(prefix)
		}
	}
	return best
}
