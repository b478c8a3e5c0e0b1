package classify

import (
	"regexp"
	"strings"

	"github.com/lmsys-go/lmsys"
)

// maxCodeScan bounds how many bytes of one message the code detector reads.
const maxCodeScan = 64 << 10

// Labels of the code facet: which side of the conversation holds code.
var codeLabels = []string{"none", "request", "reply", "both"}

// NoCode is the code_language label of a conversation without code; OtherCode is
// the label of code whose language the detector cannot tell.
const (
	NoCode    = "none"
	OtherCode = "other"
)

// CodeBlock is one piece of code found in a message: a fenced block (with the
// info string of its fence) or a run of unfenced lines with syntax cues.
type CodeBlock struct {
	// Fenced is true for a ``` or ~~~ block.
	Fenced bool
	// Info is the first word of a fence's info string, lowercased ("python",
	// "js"); empty for unfenced code or a bare fence.
	Info string
	// Code is the block's text without its fences.
	Code string
}

// fenceOpen reports whether line opens a fenced block: up to three spaces, then
// three or more backticks or tildes. It returns the fence and the info string.
func fenceOpen(line string) (fence, info string, ok bool) {
	t := strings.TrimLeft(line, " ")
	if len(line)-len(t) > 3 || len(t) < 3 || (t[0] != '`' && t[0] != '~') {
		return "", "", false
	}
	n := 0
	for n < len(t) && t[n] == t[0] {
		n++
	}
	if n < 3 {
		return "", "", false
	}
	rest := strings.TrimSpace(t[n:])
	if t[0] == '`' && strings.Contains(rest, "`") {
		return "", "", false // inline code spanning ```like this```
	}
	if f := strings.Fields(rest); len(f) > 0 {
		info = strings.ToLower(strings.Trim(f[0], "{}."))
	}
	return t[:n], info, true
}

// fenceClose reports whether line closes a block opened with fence.
func fenceClose(line, fence string) bool {
	t := strings.TrimSpace(line)
	if len(t) < len(fence) || t[0] != fence[0] {
		return false
	}
	for i := 0; i < len(t); i++ {
		if t[i] != fence[0] {
			return false
		}
	}
	return true
}

// splitFences cuts text into its fenced blocks and the prose around them. An
// unclosed fence runs to the end of the text (chat replies are often cut).
func splitFences(text string) (blocks []CodeBlock, prose string) {
	if !strings.Contains(text, "```") && !strings.Contains(text, "~~~") {
		return nil, text
	}
	var out strings.Builder
	var code strings.Builder
	fence, info := "", ""
	for len(text) > 0 {
		line := text
		if i := strings.IndexByte(text, '\n'); i >= 0 {
			line, text = text[:i], text[i+1:]
		} else {
			text = ""
		}
		if fence == "" {
			if f, inf, ok := fenceOpen(line); ok {
				fence, info = f, inf
				code.Reset()
				continue
			}
			out.WriteString(line)
			out.WriteByte('\n')
			continue
		}
		if fenceClose(line, fence) {
			blocks = append(blocks, CodeBlock{Fenced: true, Info: info, Code: code.String()})
			fence = ""
			continue
		}
		code.WriteString(line)
		code.WriteByte('\n')
	}
	if fence != "" {
		blocks = append(blocks, CodeBlock{Fenced: true, Info: info, Code: code.String()})
	}
	return blocks, out.String()
}

// stripFences returns text without its fenced code blocks.
func stripFences(text string) string {
	_, prose := splitFences(text)
	return prose
}

// Line cues of unfenced code. A strong line is one prose almost never has
// (keywords in their syntactic place); a weak line ends or begins like code.
var (
	strongCodeLine = regexp.MustCompile(`^\s*(?:` +
		`def \w+\s*\(.*\)\s*(?:->.*)?:|class \w+(?:\(.*\))?\s*:|class \w+.*\{|from [\w.]+ import \w|import [\w.]+(?: as \w+)?\s*$|` +
		`#include\s*[<"]|using namespace \w|using System|package [\w.]+;?\s*$|func (?:\(.*\) )?\w+\(|fn \w+\s*[(<]|` +
		`(?:public|private|protected)(?: static)?(?: final)? [\w<>\[\]]+ \w+\s*[(;=]|` +
		`(?:const|let|var) [\w${}\[\], ]+\s*=|function\s*\w*\s*\(|(?:export )?(?:default )?(?:async )?function\b|` +
		`(?:if|while|for|switch)\s*\(.*\)\s*\{?\s*$|for \w+ in .*:\s*$|(?:if|elif|while) .*:\s*$|else\s*:\s*$|` +
		`\}\s*else\s*\{|return\b.*;\s*$|print\(.*\)\s*$|console\.log\(|System\.out\.print|printf\(|cout\s*<<|` +
		`(?i:select\s.+\sfrom\s|insert\s+into\s|create\s+table\s|update\s+\w+\s+set\s|delete\s+from\s)|` +
		`<\?php|<(?:html|head|body|div|span|script|style|table|form|input|template)\b|` +
		`#!/|\$\w+\s*=|\w+\s*:=\s*|[\w.]+\(.*\)\s*;\s*$|@\w+(?:\(.*\))?\s*$)`)
	weakCodeLine = regexp.MustCompile(`(?:[;{}]\s*$|^\s*[})\]]|^\s*//|^\s*#\s*\w+.*=|=>|->|::|==|!=|\+=|&&|\|\||^\s{4,}\S.*[=(:]\s*)`)
)

// codeStarts are the first words of code lines that need no punctuation.
var codeStarts = []string{"import ", "from ", "package ", "select ", "insert ", "create ", "update ", "delete ",
	"using ", "return", "def ", "class ", "func ", "fn ", "let ", "var ", "const ", "else", "elif ", "for ", "while ",
	"SELECT ", "INSERT ", "CREATE ", "UPDATE ", "DELETE ", "end", "puts ", "echo ", "sudo "}

// maybeCode is the cheap test a line passes before the line cues run: it holds
// code punctuation or starts with a keyword that needs none.
func maybeCode(line string) bool {
	if strings.ContainsAny(line, "(){}[];=<>#$:@|&") {
		return true
	}
	t := strings.TrimLeft(line, " \t")
	for _, k := range codeStarts {
		if strings.HasPrefix(t, k) {
			return true
		}
	}
	return false
}

// unfencedCode finds code in prose by line cues: it returns the code-like lines
// when at least one strong line and three points are found (a strong line counts
// two, a weak one one), or "" otherwise.
func unfencedCode(prose string) string {
	score, strong := 0, 0
	var code strings.Builder
	for len(prose) > 0 {
		line := prose
		if i := strings.IndexByte(prose, '\n'); i >= 0 {
			line, prose = prose[:i], prose[i+1:]
		} else {
			prose = ""
		}
		if len(line) > 400 || !maybeCode(line) {
			continue // prose paragraphs, plain sentences and blank lines
		}
		switch {
		case strongCodeLine.MatchString(line):
			strong++
			score += 2
			if weakCodeLine.MatchString(line) {
				score++
			}
		case weakCodeLine.MatchString(line):
			score++
		default:
			continue
		}
		code.WriteString(line)
		code.WriteByte('\n')
	}
	if strong == 0 || score < 3 {
		return ""
	}
	return code.String()
}

// FindCode returns the code in one message: its fenced blocks, and when it has
// none, the unfenced lines that look like code (see unfencedCode). It reads at
// most the first 64 KB.
func FindCode(text string) []CodeBlock {
	text = head(text, maxCodeScan)
	blocks, prose := splitFences(text)
	if len(blocks) > 0 {
		return blocks
	}
	if c := unfencedCode(prose); c != "" {
		return []CodeBlock{{Code: c}}
	}
	return nil
}

// codeAliases maps fence info strings onto one name per language.
var codeAliases = map[string]string{
	"py": "python", "python3": "python", "py3": "python", "ipython": "python", "python2": "python",
	"js": "javascript", "jsx": "javascript", "node": "javascript", "nodejs": "javascript", "mjs": "javascript",
	"ts": "typescript", "tsx": "typescript",
	"golang": "go",
	"sh":     "bash", "shell": "bash", "zsh": "bash", "console": "bash", "terminal": "bash", "shellscript": "bash",
	"c++": "cpp", "cc": "cpp", "cxx": "cpp", "hpp": "cpp",
	"c#": "csharp", "cs": "csharp",
	"rs": "rust", "rb": "ruby", "kt": "kotlin", "kts": "kotlin",
	"yml": "yaml", "htm": "html", "xhtml": "html", "ps1": "powershell", "pwsh": "powershell",
	"postgresql": "sql", "mysql": "sql", "sqlite": "sql", "plsql": "sql", "tsql": "sql", "psql": "sql",
	"objc": "objective-c", "objectivec": "objective-c", "vb": "vbnet", "tex": "latex",
}

// notCode are info strings that mark a fence holding no program text.
var notCode = map[string]bool{"text": true, "txt": true, "plaintext": true, "plain": true, "output": true, "markdown": true, "md": true}

// languageCues guess the language of code without a fence info string: each
// language's pattern counts its hits and the language with most hits wins (ties
// go to the earlier one).
var languageCues = []struct {
	lang string
	re   *regexp.Regexp
}{
	{"python", regexp.MustCompile(`(?m)^\s*def \w+\(.*\):|^\s*(?:from [\w.]+ )?import \w[\w.]*(?: as \w+)?\s*$|\bself\.|\belif\b|\bprint\(|__\w+__|^\s*for \w+ in .*:\s*$|\bNone\b|\bTrue\b|\bFalse\b|\b(?:np|pd|plt|df)\.\w+|\bdf\[|\.loc\[`)},
	{"go", regexp.MustCompile(`(?m)^package \w+\s*$|^func |:=|\bfmt\.|\berr != nil|\bchan\b|\bgo func`)},
	{"javascript", regexp.MustCompile(`(?m)\bfunction\b|\bconst \w+ =|\blet \w+ =|=>|console\.log|\bdocument\.|\brequire\(|===|\bmodule\.exports|\bwindow\.`)},
	{"typescript", regexp.MustCompile(`(?m)\binterface \w+ \{|:\s*(?:string|number|boolean)\b[;,)=]|\bexport type\b|<\w+>\(`)},
	{"java", regexp.MustCompile(`(?m)\bpublic (?:static )?(?:void|class|final)\b|System\.out\.print|\bString\[\] args|\bprivate \w+ \w+;|@Override|\bnew \w+\(`)},
	{"csharp", regexp.MustCompile(`(?m)\busing System|^\s*using [A-Z][\w.]*;|Console\.Write|\bnamespace \w+|\bpublic async Task|\bvar \w+ = new\b|\bMonoBehaviour\b|\b(?:void|string|int|bool|Task) [A-Z]\w*\(|\b[A-Z]\w*\.[A-Z]\w*\(`)},
	{"cpp", regexp.MustCompile(`(?m)#include\s*<(?:iostream|vector|string|map|algorithm)>|\bstd::|\bcout\s*<<|\busing namespace std|\btemplate\s*<`)},
	{"c", regexp.MustCompile(`(?m)#include\s*<(?:stdio|stdlib|string)\.h>|\bprintf\(|\bmalloc\(|\bint main\(`)},
	{"rust", regexp.MustCompile(`(?m)\bfn \w+\(|\blet mut\b|println!|\bimpl\b|\buse std::|&str\b|\bOption<|\bResult<`)},
	{"php", regexp.MustCompile(`(?m)<\?php|\$\w+\s*=|\becho\s+\$|->\w+\(`)},
	{"ruby", regexp.MustCompile(`(?m)^\s*def \w+\s*$|^\s*end\s*$|\bputs\b|\brequire '|\.each do\b`)},
	{"sql", regexp.MustCompile(`(?mi)\bselect\b.+\bfrom\b|\binsert into\b|\bcreate table\b|\bwhere\b.+=|\b(?:inner|left) join\b|\bgroup by\b`)},
	{"html", regexp.MustCompile(`(?mi)<(?:html|head|body|div|span|p|a|ul|li|table|form|input|button)\b[^>]*>|</\w+>`)},
	{"css", regexp.MustCompile(`(?m)^\s*[.#]?[\w-]+(?:\s*[.#:>][\w-]+)*\s*\{\s*$|^\s*(?:color|margin|padding|display|font-size|background(?:-color)?|width|height)\s*:\s*[^;]+;`)},
	{"bash", regexp.MustCompile(`(?m)^#!/bin/(?:ba)?sh|^\s*\$ \w|\bsudo \w|\bapt(?:-get)? install\b|\becho \S|\| *grep\b|\bchmod\b|\bexport \w+=`)},
	{"r", regexp.MustCompile(`(?m)\w+\s*<-\s*\S|\blibrary\(\w+\)|\bdata\.frame\(|\bggplot\(`)},
	{"kotlin", regexp.MustCompile(`(?m)\bfun \w+\(|\bval \w+ =|\bprintln\(`)},
	{"swift", regexp.MustCompile(`(?m)\bimport (?:UIKit|SwiftUI|Foundation)\b|\bfunc \w+\(.*\) -> |\bguard let\b|\bvar \w+: \w+|^\s*case \.\w+|\bsome View\b|\$\w+\.\w+|\b(?:Section|VStack|HStack|Picker|Text)\s*[({]`)},
	{"matlab", regexp.MustCompile(`(?m)^\s*function \[|^\s*%|\bzeros\(|\blength\(|\bdisp\(|\.\*|\bnumel\(`)},
}

// CodeLanguage names the language of one block: its fence info string (aliases
// folded: "py" is "python"), or the language whose syntax cues the code hits
// most, or OtherCode.
func CodeLanguage(b CodeBlock) string {
	if b.Info != "" && !notCode[b.Info] {
		if a, ok := codeAliases[b.Info]; ok {
			return a
		}
		return b.Info
	}
	code := head(b.Code, 16<<10)
	best, bestHits := OtherCode, 0
	for _, c := range languageCues {
		if n := len(c.re.FindAllStringIndex(code, 50)); n > bestHits {
			best, bestHits = c.lang, n
		}
	}
	return best
}

// Code returns where c holds code ("none", "request" for user messages only,
// "reply" for assistant messages only, "both") and the language of the first code
// found in message order (CodeLanguage), or NoCode. System and tool messages are
// not read.
func Code(c lmsys.Conversation) (where, language string) {
	inRequest, inReply := false, false
	language = NoCode
	for _, m := range c.Messages {
		if m.Role != lmsys.RoleUser && m.Role != lmsys.RoleAssistant {
			continue
		}
		if (m.Role == lmsys.RoleUser && inRequest) || (m.Role == lmsys.RoleAssistant && inReply) {
			if language != NoCode && language != OtherCode {
				continue // this side is settled and the language is known
			}
		}
		blocks := FindCode(m.Content)
		if len(blocks) == 0 {
			continue
		}
		if m.Role == lmsys.RoleUser {
			inRequest = true
		} else {
			inReply = true
		}
		for _, b := range blocks {
			if l := CodeLanguage(b); language == NoCode || (language == OtherCode && l != OtherCode) {
				language = l
			}
		}
	}
	switch {
	case inRequest && inReply:
		where = "both"
	case inRequest:
		where = "request"
	case inReply:
		where = "reply"
	default:
		where = "none"
	}
	return where, language
}

var codeBuiltin = &builtin{
	name:        "code",
	version:     "1",
	description: "Whether the request or the reply holds code, and which language.",
	rules: `code reads every user and assistant message (the first 64 KB of each). A message holds code when it has a
fenced block (three or more backticks or tildes; an unclosed fence runs to the end), or, without fences, lines with
syntax cues: strong lines (def/class/import/#include/func/function/const x =/if (…) {/SELECT … FROM/<div …/#!…)
count 2, weak lines (ending in ; { }, starting with } or //, holding => -> :: == != += && ||) count 1; code needs a
strong line and 3 points. Facet code: none, request (user messages only), reply (assistant messages only), both.
Facet code_language: the language of the first code found in message order: the fence's info string with aliases
folded (py = python, js = javascript, sh = bash, c++ = cpp …), else the language whose syntax patterns hit most
(python, go, javascript, typescript, java, csharp, cpp, c, rust, php, ruby, sql, html, css, bash, r, kotlin, swift,
matlab),
else other; an unknown language is replaced by a known one found later; none without code.`,
	facets: []Facet{
		{Name: "code", Labels: codeLabels, Description: "Which side of the conversation holds code."},
		{Name: "code_language", Description: "Language of the first code found (python, go, javascript …), other, or none."},
	},
	fn: func(c lmsys.Conversation) []Answer {
		where, lang := Code(c)
		return []Answer{{Facet: "code", Value: where}, {Facet: "code_language", Value: lang}}
	},
}
