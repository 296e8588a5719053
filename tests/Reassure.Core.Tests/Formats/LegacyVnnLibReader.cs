// The VNN-LIB reader as of commit 71e2cfe, kept verbatim (renamed, internal) as a test oracle: the hardened reader
// must give the same property on every input the old one accepted (real files, generated properties, fuzz cases).
// Not for production: it recurses without limit, expands the DNF before capping it and is quadratic in the asserts.
using System.Globalization;
using Reassure.Formats.VnnLib;
using Reassure.Networks;
using Reassure.Specifications;

namespace Reassure.Tests.Formats;

/// <summary>
/// Reads VNN-LIB properties (the SMT-LIB subset of VNN-COMP): <c>(declare-const X_i Real)</c>,
/// <c>(declare-const Y_j Real)</c>, and <c>(assert F)</c> where F is built from <c>&lt;=</c>, <c>&gt;=</c>, <c>&lt;</c>,
/// <c>&gt;</c>, <c>=</c>, <c>and</c>, <c>or</c> over linear terms (<c>+</c>, <c>-</c>, <c>*</c> by a constant, numbers in
/// decimal or scientific notation). Strict comparisons are read as non-strict (the verifier works over the reals;
/// this can only make the unsafe set larger, so "holds" stays sound). The conjunction of all asserts is brought to
/// disjunctive normal form; every conjunct must constrain inputs only (bounds of single X_i, giving a box) or outputs
/// only (linear rows on Y). Errors are <see cref="ErrorCodes.VnnLibMalformed"/> and name the file, line and token.
/// </summary>
internal static class LegacyVnnLibReader
{
    /// <summary>Reads a property from a file.</summary>
    public static VnnLibProperty Read(string path)
    {
        if (!File.Exists(path)) throw new ReassureException(ErrorCodes.FileUnreadable, "the VNN-LIB file does not exist", path);
        return Parse(File.ReadAllText(path), path);
    }

    /// <summary>Parses property text; <paramref name="source"/> names it in errors.</summary>
    public static VnnLibProperty Parse(string text, string source = "<text>")
    {
        ArgumentNullException.ThrowIfNull(text);
        var parser = new Parser(text, source);
        return parser.Run();
    }

    private sealed record Token(string Text, int Line);

    private sealed class Node
    {
        public Node(Token token, List<Node>? children) { Token = token; Children = children; }
        public Token Token { get; }
        public List<Node>? Children { get; }
        public bool IsList => Children is not null;
    }

    /// <summary>A linear term: coefficients on X (<c>[n]</c>), on Y (<c>[m]</c>) and a constant.</summary>
    private sealed record Term(double[] X, double[] Y, double C)
    {
        public Term Scale(double s) => new(X.Select(v => v * s).ToArray(), Y.Select(v => v * s).ToArray(), C * s);
        public Term Plus(Term o) => new(X.Zip(o.X, (a, b) => a + b).ToArray(), Y.Zip(o.Y, (a, b) => a + b).ToArray(), C + o.C);
        public bool IsConstant => X.All(v => v == 0) && Y.All(v => v == 0);
    }

    /// <summary>An atom t &lt;= 0 with the line it came from.</summary>
    private sealed record Atom(Term T, int Line);

    private sealed class Parser(string text, string source)
    {
        private readonly Dictionary<string, (bool IsInput, int Index)> _vars = new(StringComparer.Ordinal);
        private int _n, _m;

        private ReassureException Error(string message, Token? at) =>
            new(ErrorCodes.VnnLibMalformed, at is null ? message : $"{message} (token '{at.Text}')",
                at is null ? source : $"{source}:{at.Line.ToString(CultureInfo.InvariantCulture)}");

        public VnnLibProperty Run()
        {
            var nodes = ParseAll(Tokenize());
            var asserts = new List<Node>();
            foreach (var node in nodes)
            {
                if (!node.IsList || node.Children!.Count == 0 || node.Children[0].IsList) throw Error("expected (declare-const ...) or (assert ...)", node.Token);
                string head = node.Children[0].Token.Text;
                if (head == "declare-const") Declare(node);
                else if (head == "assert")
                {
                    if (node.Children.Count != 2) throw Error("assert takes exactly one formula", node.Children[0].Token);
                    asserts.Add(node.Children[1]);
                }
                else throw Error("unsupported command; expected declare-const or assert", node.Children[0].Token);
            }
            if (_n == 0) throw Error("no input variables X_i are declared", null);
            if (_m == 0) throw Error("no output variables Y_j are declared", null);
            // Check indices are contiguous 0..n-1 and 0..m-1.
            foreach (var (name, (isInput, index)) in _vars)
                if (index >= (isInput ? _n : _m)) throw Error($"variable {name} has an index beyond the declared count", null);

            // DNF of the conjunction of all asserts.
            List<List<Atom>> dnf = [[]];
            foreach (var a in asserts)
            {
                var d = Dnf(a);
                var next = new List<List<Atom>>(dnf.Count * d.Count);
                foreach (var left in dnf) foreach (var right in d) next.Add([.. left, .. right]);
                dnf = next;
                if (dnf.Count > 100_000) throw Error("the formula's disjunctive normal form has more than 100000 conjunctions", a.Token);
            }
            // Split every conjunction into a box and an output conjunction; group by box.
            var cases = new List<(double[] Lo, double[] Hi, List<OutputConjunction> Unsafe)>();
            foreach (var conj in dnf)
            {
                var lo = Enumerable.Repeat(double.NegativeInfinity, _n).ToArray();
                var hi = Enumerable.Repeat(double.PositiveInfinity, _n).ToArray();
                var rows = new List<OutputConstraint>();
                foreach (var atom in conj)
                {
                    bool hasX = atom.T.X.Any(v => v != 0), hasY = atom.T.Y.Any(v => v != 0);
                    if (hasX && hasY) throw Error("a constraint mixing inputs X and outputs Y is not supported", new Token("", atom.Line));
                    if (hasX)
                    {
                        int nz = 0, i0 = -1;
                        for (int i = 0; i < _n; i++) if (atom.T.X[i] != 0) { nz++; i0 = i; }
                        if (nz != 1) throw Error("an input constraint must bound a single X_i (general linear input constraints are not supported)", new Token("", atom.Line));
                        double a = atom.T.X[i0], bound = -atom.T.C / a; // a x + c <= 0
                        if (a > 0) hi[i0] = Math.Min(hi[i0], bound);
                        else lo[i0] = Math.Max(lo[i0], bound);
                    }
                    else if (hasY) rows.Add(new OutputConstraint(atom.T.Y, -atom.T.C));
                    else if (atom.T.C > 0) { rows = null!; break; } // constant false atom: conjunction empty
                }
                if (rows is null) continue;
                bool empty = false;
                for (int i = 0; i < _n; i++)
                {
                    if (double.IsInfinity(lo[i]) || double.IsInfinity(hi[i]))
                        throw Error($"input X_{i.ToString(CultureInfo.InvariantCulture)} has no {(double.IsInfinity(lo[i]) ? "lower" : "upper")} bound; the input set must be a box", null);
                    if (lo[i] > hi[i]) empty = true;
                }
                if (empty) continue;
                var existing = cases.FindIndex(c => c.Lo.AsSpan().SequenceEqual(lo) && c.Hi.AsSpan().SequenceEqual(hi));
                if (existing < 0) cases.Add((lo, hi, [new OutputConjunction(rows)]));
                else cases[existing].Unsafe.Add(new OutputConjunction(rows));
            }
            if (cases.Count == 0) throw Error("the formula is unsatisfiable on its own (every input box is empty)", null);
            return new VnnLibProperty(_n, _m, cases.Select(c => new VnnLibCase(new InputBox(c.Lo, c.Hi), c.Unsafe)).ToList(), source);
        }

        private void Declare(Node node)
        {
            var c = node.Children!;
            if (c.Count != 3 || c[1].IsList || c[2].IsList) throw Error("expected (declare-const NAME Real)", node.Token);
            if (c[2].Token.Text != "Real") throw Error("only Real variables are supported", c[2].Token);
            string name = c[1].Token.Text;
            bool isInput;
            if (name.StartsWith("X_", StringComparison.Ordinal)) isInput = true;
            else if (name.StartsWith("Y_", StringComparison.Ordinal)) isInput = false;
            else throw Error("variable names must be X_i (inputs) or Y_j (outputs)", c[1].Token);
            if (!int.TryParse(name.AsSpan(2), NumberStyles.None, CultureInfo.InvariantCulture, out int index))
                throw Error("variable index is not a non-negative integer", c[1].Token);
            if (!_vars.TryAdd(name, (isInput, index))) throw Error("variable declared twice", c[1].Token);
            if (isInput) _n = Math.Max(_n, index + 1); else _m = Math.Max(_m, index + 1);
        }

        private List<List<Atom>> Dnf(Node f)
        {
            if (!f.IsList || f.Children!.Count == 0 || f.Children[0].IsList) throw Error("expected a formula (op ...)", f.Token);
            var head = f.Children[0].Token;
            var args = f.Children.Skip(1).ToList();
            switch (head.Text)
            {
                case "and":
                {
                    List<List<Atom>> acc = [[]];
                    foreach (var a in args)
                    {
                        var d = Dnf(a);
                        var next = new List<List<Atom>>();
                        foreach (var l in acc) foreach (var r in d) next.Add([.. l, .. r]);
                        acc = next;
                    }
                    return acc;
                }
                case "or":
                {
                    if (args.Count == 0) throw Error("or needs at least one formula", head);
                    var acc = new List<List<Atom>>();
                    foreach (var a in args) acc.AddRange(Dnf(a));
                    return acc;
                }
                case "<=" or "<" or ">=" or ">" or "=":
                {
                    if (args.Count != 2) throw Error("a comparison takes two terms", head);
                    var l = TermOf(args[0]);
                    var r = TermOf(args[1]);
                    var le = l.Plus(r.Scale(-1)); // l - r
                    return head.Text switch
                    {
                        "<=" or "<" => [[new Atom(le, head.Line)]],
                        ">=" or ">" => [[new Atom(le.Scale(-1), head.Line)]],
                        _ => [[new Atom(le, head.Line), new Atom(le.Scale(-1), head.Line)]],
                    };
                }
                default:
                    throw Error("unsupported operator in a formula; expected and, or, <=, >=, <, >, =", head);
            }
        }

        private Term TermOf(Node t)
        {
            if (!t.IsList)
            {
                var tok = t.Token;
                if (_vars.TryGetValue(tok.Text, out var v))
                {
                    var term = new Term(new double[_n], new double[_m], 0);
                    if (v.IsInput) term.X[v.Index] = 1; else term.Y[v.Index] = 1;
                    return term;
                }
                if (double.TryParse(tok.Text, NumberStyles.Float, CultureInfo.InvariantCulture, out double c) && double.IsFinite(c))
                    return new Term(new double[_n], new double[_m], c);
                throw Error("not a declared variable or a number", tok);
            }
            var ch = t.Children!;
            if (ch.Count == 0 || ch[0].IsList) throw Error("expected a term", t.Token);
            var head = ch[0].Token;
            var args = ch.Skip(1).Select(TermOf).ToList();
            switch (head.Text)
            {
                case "+":
                    if (args.Count == 0) throw Error("+ needs terms", head);
                    return args.Aggregate((a, b) => a.Plus(b));
                case "-":
                    if (args.Count == 0) throw Error("- needs terms", head);
                    if (args.Count == 1) return args[0].Scale(-1);
                    return args.Skip(1).Aggregate(args[0], (a, b) => a.Plus(b.Scale(-1)));
                case "*":
                {
                    if (args.Count == 0) throw Error("* needs terms", head);
                    var acc = args[0];
                    foreach (var b in args.Skip(1))
                    {
                        if (b.IsConstant) acc = acc.Scale(b.C);
                        else if (acc.IsConstant) acc = b.Scale(acc.C);
                        else throw Error("a product of two variables is not linear", head);
                    }
                    return acc;
                }
                default:
                    throw Error("unsupported operator in a term; expected +, -, *", head);
            }
        }

        private List<Token> Tokenize()
        {
            var tokens = new List<Token>();
            int line = 1, i = 0;
            while (i < text.Length)
            {
                char c = text[i];
                if (c == '\n') { line++; i++; continue; }
                if (char.IsWhiteSpace(c)) { i++; continue; }
                if (c == ';') { while (i < text.Length && text[i] != '\n') i++; continue; }
                if (c is '(' or ')') { tokens.Add(new Token(c.ToString(), line)); i++; continue; }
                int start = i;
                while (i < text.Length && !char.IsWhiteSpace(text[i]) && text[i] is not '(' and not ')' and not ';') i++;
                tokens.Add(new Token(text[start..i], line));
            }
            return tokens;
        }

        private List<Node> ParseAll(List<Token> tokens)
        {
            var stack = new Stack<(Token Open, List<Node> Items)>();
            var top = new List<Node>();
            foreach (var tok in tokens)
            {
                if (tok.Text == "(") stack.Push((tok, []));
                else if (tok.Text == ")")
                {
                    if (stack.Count == 0) throw Error("unbalanced ')'", tok);
                    var (open, items) = stack.Pop();
                    var node = new Node(open, items);
                    (stack.Count == 0 ? top : stack.Peek().Items).Add(node);
                }
                else
                {
                    if (stack.Count == 0) throw Error("a token outside parentheses", tok);
                    stack.Peek().Items.Add(new Node(tok, null));
                }
            }
            if (stack.Count > 0) throw Error("unbalanced '(' (the file ends inside an expression)", stack.Peek().Open);
            return top;
        }
    }
}
