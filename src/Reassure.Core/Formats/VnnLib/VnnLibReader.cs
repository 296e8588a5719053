using System.Globalization;
using Reassure.Networks;
using Reassure.Specifications;

namespace Reassure.Formats.VnnLib;

/// <summary>
/// Reads VNN-LIB properties (the SMT-LIB subset of VNN-COMP): <c>(declare-const X_i Real)</c>,
/// <c>(declare-const Y_j Real)</c>, and <c>(assert F)</c> where F is built from <c>&lt;=</c>, <c>&gt;=</c>, <c>&lt;</c>,
/// <c>&gt;</c>, <c>=</c>, <c>and</c>, <c>or</c> over linear terms (<c>+</c>, <c>-</c>, <c>*</c> by a constant, numbers in
/// decimal or scientific notation, read with the invariant culture and required finite). Strict comparisons are read as
/// non-strict (the verifier works over the reals; this can only make the unsafe set larger, so "holds" stays sound).
/// The conjunction of all asserts is brought to disjunctive normal form; every conjunct must constrain inputs only
/// (bounds of single X_i, giving a box) or outputs only (linear rows on Y). Inputs must be declared as X_0 .. X_{n-1}
/// and outputs as Y_0 .. Y_{m-1}, each once.
/// <para>
/// Hostile input. The reader is linear in the text (one pass builds the expression tree with an explicit stack; asserts
/// are conjoined without copying), and every cap is checked before the memory it guards is allocated:
/// <list type="bullet">
/// <item><see cref="MaxDepth"/> = 256 levels of parentheses (the VNN-COMP properties here use at most 4; terms add a few). The tree is built
/// iteratively (explicit stack) and refused beyond the limit while reading, before any evaluation, so the recursive
/// evaluation of formulas and terms is at most 256 frames deep: no input can overflow the stack.</item>
/// <item><see cref="MaxDisjuncts"/> = 65 536 conjunctions after expansion to disjunctive normal form, counted (product over
/// <c>and</c>, sum over <c>or</c>) before anything is expanded. The largest VNN-COMP properties we know of use a few
/// thousand disjuncts (ACAS Xu 2, MNIST/CIFAR 9, nn4sys a few thousand boxes).</item>
/// <item><see cref="MaxExpandedAtoms"/> = 2^24 atom occurrences materialised by the expansion (the asserts that hold in
/// every conjunction are kept once, as the shared part of the box and of the rows; only the output rows of that part
/// are repeated per conjunction), also counted before expanding.</item>
/// <item><see cref="MaxVariables"/> = 10^7 inputs and 10^7 outputs: an index X_i / Y_j must be below it, checked on the
/// name before anything is allocated. 10^7 doubles is 80 MB per box bound; the largest VNN-COMP inputs are ~1.5e5
/// (ImageNet-size 224x224x3).</item>
/// <item><see cref="MaxDenseValues"/> = 2^25 doubles (256 MB) for the dense results: 2n per input box computed
/// (one per distinct set of input bounds taken from disjunctions) and m per distinct output row, checked before each
/// allocation.</item>
/// </list>
/// </para>
/// Errors are <see cref="ReassureException"/>s that name the file, line and column and what was expected:
/// <see cref="ErrorCodes.VnnLibMalformed"/> (syntax and content), <see cref="ErrorCodes.VnnLibTooDeep"/>,
/// <see cref="ErrorCodes.VnnLibTooManyDisjuncts"/> (disjuncts, expansion size, dense values) and
/// <see cref="ErrorCodes.VnnLibTooManyVariables"/>; for any text, no other exception escapes <see cref="Parse"/>
/// (only a null argument gives <see cref="ArgumentNullException"/>). Stricter than the reader before issue 15: gaps in
/// X_0 .. X_{n-1} or Y_0 .. Y_{m-1}, indices with leading zeros and arithmetic that overflows a double are refused.
/// </summary>
public static class VnnLibReader
{
    /// <summary>The deepest nesting of parentheses accepted (an <c>(assert ...)</c> counts as level 1).</summary>
    public const int MaxDepth = 256;

    /// <summary>The most conjunctions the disjunctive normal form of the property may have.</summary>
    public const int MaxDisjuncts = 65_536;

    /// <summary>The most atom occurrences the expansion may materialise (see the class remarks).</summary>
    public const long MaxExpandedAtoms = 1L << 24;

    /// <summary>Variable indices must be below this: at most 10^7 inputs X_i and 10^7 outputs Y_j.</summary>
    public const int MaxVariables = 10_000_000;

    /// <summary>The most doubles the result may hold in dense form (2n per input box computed, m per distinct output row).</summary>
    public const long MaxDenseValues = 1L << 25;

    /// <summary>Reads a property from a file.</summary>
    public static VnnLibProperty Read(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (!File.Exists(path)) throw new ReassureException(ErrorCodes.FileUnreadable, "the VNN-LIB file does not exist", path);
        string text;
        try { text = File.ReadAllText(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ReassureException(ErrorCodes.FileUnreadable, $"the VNN-LIB file cannot be read: {e.Message}", path, e);
        }
        return Parse(text, path);
    }

    /// <summary>Parses property text; <paramref name="source"/> names it in errors.</summary>
    public static VnnLibProperty Parse(string text, string source = "<text>")
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentNullException.ThrowIfNull(source);
        return new Parser(text, source).Run();
    }

    /// <summary>An atom (a token) or a list (<see cref="Children"/> not null) with where it starts.</summary>
    private sealed class Node(string text, int line, int column, Node[]? children)
    {
        public string Text { get; } = text;
        public int Line { get; } = line;
        public int Column { get; } = column;
        public Node[]? Children { get; } = children;
        public bool IsList => Children is not null;
    }

    /// <summary>
    /// A linear term: sparse coefficients sorted by variable (X_i is i, Y_j is -1 - j, so outputs sort first) and a
    /// constant. No coefficient is zero.
    /// </summary>
    private sealed class Term(int[] vars, double[] coefs, double c)
    {
        public int[] Vars { get; } = vars;
        public double[] Coefs { get; } = coefs;
        public double C { get; } = c;
        public bool IsConstant => Vars.Length == 0;

        public static Term Constant(double c) => new([], [], c);

        public Term Scale(double s)
        {
            var coefs = new double[Coefs.Length];
            for (int i = 0; i < coefs.Length; i++) coefs[i] = Coefs[i] * s;
            return Compact(Vars, coefs, C * s);
        }

        /// <summary>The sum, coefficient by coefficient in the order this + other (a merge of the sorted lists).</summary>
        public Term Plus(Term o)
        {
            var vars = new int[Vars.Length + o.Vars.Length];
            var coefs = new double[vars.Length];
            int i = 0, j = 0, k = 0;
            while (i < Vars.Length || j < o.Vars.Length)
            {
                if (j == o.Vars.Length || (i < Vars.Length && Vars[i] < o.Vars[j])) { vars[k] = Vars[i]; coefs[k++] = Coefs[i++]; }
                else if (i == Vars.Length || o.Vars[j] < Vars[i]) { vars[k] = o.Vars[j]; coefs[k++] = o.Coefs[j++]; }
                else { vars[k] = Vars[i]; coefs[k++] = Coefs[i++] + o.Coefs[j++]; }
            }
            return Compact(vars.AsSpan(0, k).ToArray(), coefs.AsSpan(0, k).ToArray(), C + o.C);
        }

        /// <summary>
        /// The sum of several terms in one pass (a fold of <see cref="Plus"/> would be quadratic in the number of distinct
        /// variables): entries sorted by variable, stably, then added in the order of the terms, as the fold would.
        /// </summary>
        public static Term Sum(List<Term> terms)
        {
            if (terms.Count == 1) return terms[0];
            int count = 0;
            foreach (var t in terms) count += t.Vars.Length;
            var entries = new (int Var, int Order, double Coef)[count];
            int k = 0;
            double c = terms[0].C;
            for (int i = 0; i < terms.Count; i++)
            {
                if (i > 0) c += terms[i].C;
                for (int j = 0; j < terms[i].Vars.Length; j++, k++) entries[k] = (terms[i].Vars[j], k, terms[i].Coefs[j]);
            }
            Array.Sort(entries, static (x, y) => x.Var != y.Var ? x.Var.CompareTo(y.Var) : x.Order.CompareTo(y.Order));
            var vars = new List<int>();
            var coefs = new List<double>();
            foreach (var (v, _, a) in entries)
            {
                if (vars.Count > 0 && vars[^1] == v) coefs[^1] += a;
                else { vars.Add(v); coefs.Add(a); }
            }
            return Compact([.. vars], [.. coefs], c);
        }

        private static Term Compact(int[] vars, double[] coefs, double c)
        {
            int k = 0;
            for (int i = 0; i < vars.Length; i++) if (coefs[i] != 0) k++;
            if (k == vars.Length) return new Term(vars, coefs, c);
            var v = new int[k];
            var a = new double[k];
            k = 0;
            for (int i = 0; i < vars.Length; i++) if (coefs[i] != 0) { v[k] = vars[i]; a[k++] = coefs[i]; }
            return new Term(v, a, c);
        }

        public bool IsFinite()
        {
            if (!double.IsFinite(C)) return false;
            foreach (var a in Coefs) if (!double.IsFinite(a)) return false;
            return true;
        }
    }

    private enum AtomKind { Constant, Input, Output }

    /// <summary>An atom t &lt;= 0; <see cref="Id"/> orders atoms as in the text (the assert's ordinal, then the atom's place in it).</summary>
    private sealed record Atom(long Id, Term T, AtomKind Kind, int Line, int Column);

    /// <summary>Compares int arrays by content (box signatures).</summary>
    private sealed class SequenceComparer : IEqualityComparer<long[]>
    {
        public static readonly SequenceComparer Instance = new();
        public bool Equals(long[]? x, long[]? y) => x.AsSpan().SequenceEqual(y);
        public int GetHashCode(long[] obj)
        {
            var h = new HashCode();
            foreach (var v in obj) h.Add(v);
            return h.ToHashCode();
        }
    }

    /// <summary>Compares boxes by content (cases with the same box are merged).</summary>
    private sealed class BoxComparer : IEqualityComparer<(double[] Lo, double[] Hi)>
    {
        public static readonly BoxComparer Instance = new();
        public bool Equals((double[] Lo, double[] Hi) x, (double[] Lo, double[] Hi) y) =>
            x.Lo.AsSpan().SequenceEqual(y.Lo) && x.Hi.AsSpan().SequenceEqual(y.Hi);
        public int GetHashCode((double[] Lo, double[] Hi) obj)
        {
            var h = new HashCode();
            foreach (var v in obj.Lo) h.Add(v);
            foreach (var v in obj.Hi) h.Add(v);
            return h.ToHashCode();
        }
    }

    private sealed class Parser(string text, string source)
    {
        /// <summary>Counts saturate here (far above every cap), so products never overflow to infinity.</summary>
        private const double Saturation = 1e18;

        private readonly Dictionary<string, (bool IsInput, int Index)> _vars = new(StringComparer.Ordinal);
        private readonly HashSet<int> _inputIndices = [], _outputIndices = [];
        private int _n, _m, _commands, _asserts, _ordinal, _local;
        private double _total = 1;
        /// <summary>Asserts with one conjunction are read as soon as they close (their tree is dropped) while every name
        /// they use is declared; after the first that uses a later declaration, the rest wait for the end.</summary>
        private bool _eager = true;
        private readonly List<Atom> _common = [], _scratch = [];
        private readonly List<(Node Formula, double K, double S, int Ordinal)> _deferred = [];

        /// <summary>Thrown (and caught) when an eagerly read assert uses a name not declared yet.</summary>
        private sealed class DeferException : Exception;

        private long _dense;

        private string Where(int line, int column) =>
            $"{source}:{line.ToString(CultureInfo.InvariantCulture)}:{column.ToString(CultureInfo.InvariantCulture)}";

        private ReassureException Error(string message, Node? at, string code = ErrorCodes.VnnLibMalformed) =>
            at is null ? new(code, message, source)
                : new(code, at.IsList ? message : $"{message} (token '{Shorten(at.Text)}')", Where(at.Line, at.Column));

        private static string Shorten(string token) => token.Length <= 40 ? token : token[..40] + "...";

        private static string Num(double v) => v.ToString("R", CultureInfo.InvariantCulture);

        public VnnLibProperty Run()
        {
            BuildTree(); // reads every command as it closes (Command)
            if (_commands == 0) throw Error("the file is empty (no commands); expected (declare-const ...) and (assert ...)", null);
            if (_n == 0) throw Error("no input variables X_i are declared; expected (declare-const X_0 Real) ...", null);
            if (_m == 0) throw Error("no output variables Y_j are declared; expected (declare-const Y_0 Real) ...", null);
            if (_inputIndices.Count != _n)
                throw Error($"inputs must be declared as X_0 .. X_{(_n - 1).ToString(CultureInfo.InvariantCulture)} without gaps; {_inputIndices.Count.ToString(CultureInfo.InvariantCulture)} of those {_n.ToString(CultureInfo.InvariantCulture)} are declared", null);
            if (_outputIndices.Count != _m)
                throw Error($"outputs must be declared as Y_0 .. Y_{(_m - 1).ToString(CultureInfo.InvariantCulture)} without gaps; {_outputIndices.Count.ToString(CultureInfo.InvariantCulture)} of those {_m.ToString(CultureInfo.InvariantCulture)} are declared", null);

            // The asserts with one conjunction hold in every conjunction: read once, shared. The others are expanded
            // separately and combined in Assemble; what that materialises is counted first.
            double total = _total, extras = 0;
            foreach (var d in _deferred)
                if (d.K > 1) extras = Math.Min(extras + d.S * (total / d.K), Saturation);
            if (extras > MaxExpandedAtoms) throw TooLarge(extras);

            _eager = false;
            var common = _common;
            var multi = new List<List<List<Atom>>>();
            bool sort = false;
            foreach (var d in _deferred)
            {
                (_ordinal, _local) = (d.Ordinal, 0);
                if (d.K == 1) { Collect(d.Formula, common); sort = true; }
                else multi.Add(Expand(d.Formula));
            }
            if (sort) common.Sort((a, b) => a.Id.CompareTo(b.Id));
            var commonRows = common.Where(a => a.Kind == AtomKind.Output).ToList();
            double materialised = extras + total * commonRows.Count;
            if (materialised > MaxExpandedAtoms) throw TooLarge(materialised);
            return Assemble(common, commonRows, multi, (int)total);
        }

        /// <summary>A top-level command, as soon as it closes: declarations are recorded; asserts are counted (the
        /// disjunct cap is checked on the running product) and read or kept for the end.</summary>
        private void Command(Node node)
        {
            _commands++;
            if (node.Children!.Length == 0 || node.Children[0].IsList) throw Error("expected (declare-const ...) or (assert ...)", node);
            var head = node.Children[0];
            if (head.Text == "declare-const") { Declare(node); return; }
            if (head.Text != "assert") throw Error("unsupported command; expected declare-const or assert", head);
            if (node.Children.Length != 2) throw Error("assert takes exactly one formula: expected (assert F)", head);
            var f = node.Children[1];
            var (k, s) = Count(f);
            _total = Math.Min(_total * k, Saturation);
            if (_total > MaxDisjuncts) throw TooManyDisjuncts(_total, f);
            int ordinal = _asserts++;
            if (k == 1 && _eager)
            {
                (_ordinal, _local) = (ordinal, 0);
                try
                {
                    Collect(f, _scratch);
                    _common.AddRange(_scratch);
                    return;
                }
                catch (DeferException) { _eager = false; }
                finally { _scratch.Clear(); }
            }
            _deferred.Add((f, k, s, ordinal));
        }

        private ReassureException TooManyDisjuncts(double count, Node at) =>
            Error($"the disjunctive normal form of the asserts up to here has {(count >= Saturation ? "more than 10^18" : Num(count))} conjunctions " +
                $"(counted before expanding); expected at most {MaxDisjuncts.ToString(CultureInfo.InvariantCulture)}: split the property into several files",
                at, ErrorCodes.VnnLibTooManyDisjuncts);

        private ReassureException TooLarge(double atoms) =>
            Error($"expanding the disjunctive normal form would materialise {(atoms >= Saturation ? "more than 10^18" : Num(atoms))} atom occurrences " +
                $"(counted before expanding); expected at most {MaxExpandedAtoms.ToString(CultureInfo.InvariantCulture)}: split the property into several files",
                null, ErrorCodes.VnnLibTooManyDisjuncts);

        /// <summary>Reserves dense doubles of the result, refusing beyond <see cref="MaxDenseValues"/>.</summary>
        private void Reserve(long values, string what)
        {
            _dense += values;
            if (_dense > MaxDenseValues)
                throw Error($"the property needs more than {MaxDenseValues.ToString(CultureInfo.InvariantCulture)} doubles in dense form ({what}; " +
                    $"n = {_n.ToString(CultureInfo.InvariantCulture)} inputs, m = {_m.ToString(CultureInfo.InvariantCulture)} outputs); expected fewer distinct boxes or output rows",
                    null, ErrorCodes.VnnLibTooManyDisjuncts);
        }

        /// <summary>
        /// The cases: every combination of one conjunction per multi-disjunct assert (the first assert varies slowest,
        /// the order of the full expansion), joined with the shared atoms; conjunctions with the same box are grouped.
        /// </summary>
        private VnnLibProperty Assemble(List<Atom> common, List<Atom> commonRows, List<List<List<Atom>>> multi, int total)
        {
            bool commonFalse = common.Any(a => a.Kind == AtomKind.Constant && a.T.C > 0);
            Reserve(2L * _n, "the shared input bounds");
            var baseLo = new double[_n];
            var baseHi = new double[_n];
            Array.Fill(baseLo, double.NegativeInfinity);
            Array.Fill(baseHi, double.PositiveInfinity);
            foreach (var a in common) if (a.Kind == AtomKind.Input) Bound(baseLo, baseHi, a);

            var rowOf = new Dictionary<long, OutputConstraint>();
            var caseOf = new Dictionary<(double[] Lo, double[] Hi), int>(BoxComparer.Instance);
            var boxOf = new Dictionary<long[], int>(SequenceComparer.Instance); // X-atom signature -> case, or -1 (empty box)
            var cases = new List<(double[] Lo, double[] Hi, List<OutputConjunction> Unsafe)>();
            var choice = new int[multi.Count];
            var xs = new List<Atom>();
            var ys = new List<Atom>();
            for (int combo = 0; combo < total; combo++)
            {
                if (combo > 0)
                    for (int k = multi.Count - 1; k >= 0; k--) { if (++choice[k] < multi[k].Count) break; choice[k] = 0; }
                if (commonFalse) continue;
                xs.Clear();
                ys.Clear();
                bool isFalse = false;
                for (int k = 0; k < multi.Count && !isFalse; k++)
                    foreach (var a in multi[k][choice[k]])
                    {
                        if (a.Kind == AtomKind.Input) xs.Add(a);
                        else if (a.Kind == AtomKind.Output) ys.Add(a);
                        else if (a.T.C > 0) { isFalse = true; break; }
                    }
                if (isFalse) continue; // a constant false atom: the conjunction is empty

                var signature = xs.Select(a => a.Id).ToArray();
                if (!boxOf.TryGetValue(signature, out int caseIndex))
                {
                    double[] lo = baseLo, hi = baseHi;
                    if (xs.Count > 0)
                    {
                        Reserve(2L * _n, "one more distinct input box");
                        lo = (double[])baseLo.Clone();
                        hi = (double[])baseHi.Clone();
                        foreach (var a in xs) Bound(lo, hi, a);
                    }
                    caseIndex = BoxCase(lo, hi, caseOf, cases);
                    boxOf.Add(signature, caseIndex);
                }
                if (caseIndex < 0) continue;

                // The rows in text order: merge the shared rows with this conjunction's (both sorted by atom id).
                var rows = new List<OutputConstraint>(commonRows.Count + ys.Count);
                int i = 0, j = 0;
                while (i < commonRows.Count || j < ys.Count)
                {
                    var a = j == ys.Count || (i < commonRows.Count && commonRows[i].Id < ys[j].Id) ? commonRows[i++] : ys[j++];
                    rows.Add(Row(a, rowOf));
                }
                cases[caseIndex].Unsafe.Add(new OutputConjunction(rows));
            }
            if (cases.Count == 0) throw Error("the formula is unsatisfiable on its own (every input box is empty)", null);
            return new VnnLibProperty(_n, _m, cases.Select(c => new VnnLibCase(new InputBox(c.Lo, c.Hi), c.Unsafe)).ToList(), source);
        }

        /// <summary>The case of a box (a new one if no earlier box is equal), or -1 when the box is empty.</summary>
        private int BoxCase(double[] lo, double[] hi, Dictionary<(double[] Lo, double[] Hi), int> caseOf, List<(double[] Lo, double[] Hi, List<OutputConjunction> Unsafe)> cases)
        {
            for (int i = 0; i < _n; i++)
                if (double.IsInfinity(lo[i]) || double.IsInfinity(hi[i]))
                    throw Error($"input X_{i.ToString(CultureInfo.InvariantCulture)} has no {(double.IsInfinity(lo[i]) ? "lower" : "upper")} bound; the input set must be a box", null);
            for (int i = 0; i < _n; i++) if (lo[i] > hi[i]) return -1;
            if (caseOf.TryGetValue((lo, hi), out int index)) return index;
            // The shared bounds are never written after they are built (other boxes start from clones), so at most one
            // case (the one with exactly those bounds) holds them.
            cases.Add((lo, hi, []));
            caseOf.Add((lo, hi), cases.Count - 1);
            return cases.Count - 1;
        }

        private void Bound(double[] lo, double[] hi, Atom atom)
        {
            int i0 = atom.T.Vars[0];
            double a = atom.T.Coefs[0], bound = -atom.T.C / a; // a x + c <= 0
            if (!double.IsFinite(bound))
                throw new ReassureException(ErrorCodes.VnnLibMalformed,
                    $"the bound on X_{i0.ToString(CultureInfo.InvariantCulture)} is not a finite double (coefficient {Num(a)}, constant {Num(atom.T.C)}); expected a finite bound",
                    Where(atom.Line, atom.Column));
            if (a > 0) hi[i0] = Math.Min(hi[i0], bound);
            else lo[i0] = Math.Max(lo[i0], bound);
        }

        private OutputConstraint Row(Atom atom, Dictionary<long, OutputConstraint> rowOf)
        {
            if (rowOf.TryGetValue(atom.Id, out var row)) return row;
            Reserve(_m, "one more distinct output row");
            var a = new double[_m];
            for (int k = 0; k < atom.T.Vars.Length; k++) a[-1 - atom.T.Vars[k]] = atom.T.Coefs[k];
            row = new OutputConstraint(a, -atom.T.C);
            rowOf.Add(atom.Id, row);
            return row;
        }

        private void Declare(Node node)
        {
            var c = node.Children!;
            if (c.Length != 3 || c[1].IsList || c[2].IsList) throw Error("expected (declare-const NAME Real)", node);
            if (c[2].Text != "Real") throw Error("only Real variables are supported; expected Real", c[2]);
            var nameNode = c[1];
            string name = nameNode.Text;
            bool isInput;
            if (name.StartsWith("X_", StringComparison.Ordinal)) isInput = true;
            else if (name.StartsWith("Y_", StringComparison.Ordinal)) isInput = false;
            else throw Error("variable names must be X_i (inputs) or Y_j (outputs)", nameNode);
            var digits = name.AsSpan(2);
            if (digits.IsEmpty || digits.ContainsAnyExceptInRange('0', '9') || (digits.Length > 1 && digits[0] == '0'))
                throw Error("the variable index is not a non-negative integer without leading zeros; expected X_i or Y_j with i, j = 0, 1, 2, ...", nameNode);
            // Checked on the text, before any allocation: at most 8 digits, below MaxVariables.
            if (digits.Length > 8 || !int.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out int index) || index >= MaxVariables)
                throw Error($"the variable index is too large; expected at most {MaxVariables.ToString(CultureInfo.InvariantCulture)} inputs and outputs (index below {MaxVariables.ToString(CultureInfo.InvariantCulture)})",
                    nameNode, ErrorCodes.VnnLibTooManyVariables);
            if (!_vars.TryAdd(name, (isInput, index)) || !(isInput ? _inputIndices : _outputIndices).Add(index))
                throw Error("variable declared twice; expected each X_i and Y_j declared once", nameNode);
            if (isInput) _n = Math.Max(_n, index + 1); else _m = Math.Max(_m, index + 1);
        }

        /// <summary>
        /// The number of conjunctions K and atom occurrences S of a formula's disjunctive normal form, without expanding
        /// it (and: K = product, S = sum of S_i times the other K; or: sums). Validates the formula's operators.
        /// </summary>
        private (double K, double S) Count(Node f)
        {
            var head = Head(f, "a formula (and ...), (or ...) or a comparison (<= a b)");
            var ch = f.Children!;
            switch (head.Text)
            {
                case "and":
                {
                    double k = 1, s = 0;
                    for (int i = 1; i < ch.Length; i++)
                    {
                        var (ki, si) = Count(ch[i]);
                        s = Math.Min(s * ki + si * k, Saturation);
                        k = Math.Min(k * ki, Saturation);
                    }
                    return (k, s);
                }
                case "or":
                {
                    if (ch.Length < 2) throw Error("or needs at least one formula: expected (or F ...)", head);
                    double k = 0, s = 0;
                    for (int i = 1; i < ch.Length; i++)
                    {
                        var (ki, si) = Count(ch[i]);
                        k = Math.Min(k + ki, Saturation);
                        s = Math.Min(s + si, Saturation);
                    }
                    return (k, s);
                }
                case "<=" or "<" or ">=" or ">" or "=":
                    if (ch.Length != 3) throw Error("a comparison takes two terms: expected (op a b)", head);
                    return (1, head.Text == "=" ? 2 : 1);
                default:
                    throw Error("unsupported operator in a formula; expected and, or, <=, >=, <, >, =", head);
            }
        }

        private Node Head(Node f, string expected)
        {
            if (!f.IsList) throw Error($"expected {expected}", f);
            if (f.Children!.Length == 0) throw Error($"empty list (); expected {expected}", f);
            if (f.Children[0].IsList) throw Error($"expected an operator first in {expected}", f.Children[0]);
            return f.Children[0];
        }

        /// <summary>
        /// The disjunctive normal form: a list of conjunctions, each a list of atoms in text order. The caller has counted
        /// it (<see cref="Count"/>) within the caps. No list is shared between conjunctions, so <c>and</c> with a
        /// one-conjunction operand appends in place (linear in the size of the result).
        /// </summary>
        private List<List<Atom>> Expand(Node f)
        {
            var ch = f.Children!;
            var head = ch[0];
            switch (head.Text)
            {
                case "and":
                {
                    List<List<Atom>> acc = [[]];
                    for (int i = 1; i < ch.Length; i++)
                    {
                        var d = Expand(ch[i]);
                        if (d.Count == 1) { foreach (var l in acc) l.AddRange(d[0]); }
                        else if (acc.Count == 1 && acc[0].Count == 0) acc = d;
                        else
                        {
                            var next = new List<List<Atom>>(acc.Count * d.Count);
                            foreach (var l in acc) foreach (var r in d) next.Add([.. l, .. r]);
                            acc = next;
                        }
                    }
                    return acc;
                }
                case "or":
                {
                    var acc = new List<List<Atom>>();
                    for (int i = 1; i < ch.Length; i++) acc.AddRange(Expand(ch[i]));
                    return acc;
                }
                default:
                {
                    var atoms = new List<Atom>(2);
                    Comparison(f, atoms);
                    return [atoms];
                }
            }
        }

        /// <summary>The atoms of a formula with a single conjunction (counted K = 1: only <c>and</c>, one-operand
        /// <c>or</c> and comparisons), appended in text order.</summary>
        private void Collect(Node f, List<Atom> into)
        {
            var ch = f.Children!;
            switch (ch[0].Text)
            {
                case "and": for (int i = 1; i < ch.Length; i++) Collect(ch[i], into); break;
                case "or": Collect(ch[1], into); break;
                default: Comparison(f, into); break;
            }
        }

        /// <summary>The atoms of a comparison (validated by <see cref="Count"/>): l - r &lt;= 0, its negation, or both for =.</summary>
        private void Comparison(Node f, List<Atom> into)
        {
            var ch = f.Children!;
            var head = ch[0];
            var l = TermOf(ch[1]);
            var r = TermOf(ch[2]);
            var le = Checked(l.Plus(r.Scale(-1)), head); // l - r
            switch (head.Text)
            {
                case "<=" or "<": into.Add(MakeAtom(le, head)); break;
                case ">=" or ">": into.Add(MakeAtom(le.Scale(-1), head)); break;
                default: into.Add(MakeAtom(le, head)); into.Add(MakeAtom(le.Scale(-1), head)); break;
            }
        }

        private Atom MakeAtom(Term t, Node at)
        {
            AtomKind kind;
            if (t.IsConstant) kind = AtomKind.Constant;
            else if (t.Vars[^1] < 0) kind = AtomKind.Output; // sorted: all negative (outputs)
            else if (t.Vars[0] >= 0)
            {
                if (t.Vars.Length != 1) throw Error("an input constraint must bound a single X_i (general linear input constraints are not supported)", at);
                kind = AtomKind.Input;
            }
            else throw Error("a constraint mixing inputs X and outputs Y is not supported", at);
            return new Atom(((long)_ordinal << 32) | (uint)_local++, t, kind, at.Line, at.Column);
        }

        private Term Checked(Term t, Node at) =>
            t.IsFinite() ? t : throw Error("the arithmetic overflows a double; expected finite coefficients and constants", at);

        private Term TermOf(Node t)
        {
            if (!t.IsList)
            {
                if (_vars.TryGetValue(t.Text, out var v)) return new Term([v.IsInput ? v.Index : -1 - v.Index], [1], 0);
                if (_eager && (t.Text.StartsWith("X_", StringComparison.Ordinal) || t.Text.StartsWith("Y_", StringComparison.Ordinal))) throw new DeferException();
                if (double.TryParse(t.Text, NumberStyles.Float, CultureInfo.InvariantCulture, out double c) && double.IsFinite(c))
                    return Term.Constant(c);
                throw Error("not a declared variable or a finite number; expected X_i, Y_j or a decimal number", t);
            }
            var head = Head(t, "a term (+ ...), (- ...), (* ...), a variable or a number");
            var ch = t.Children!;
            if (head.Text is not ("+" or "-" or "*")) throw Error("unsupported operator in a term; expected +, -, *", head);
            if (ch.Length < 2) throw Error($"{head.Text} needs terms: expected ({head.Text} a ...)", head);
            var first = TermOf(ch[1]);
            switch (head.Text)
            {
                case "+" or "-":
                {
                    if (head.Text == "-" && ch.Length == 2) return first.Scale(-1);
                    var terms = new List<Term>(ch.Length - 1) { first };
                    for (int i = 2; i < ch.Length; i++) terms.Add(head.Text == "+" ? TermOf(ch[i]) : TermOf(ch[i]).Scale(-1));
                    return Checked(Term.Sum(terms), head);
                }
                default:
                {
                    var acc = first;
                    for (int i = 2; i < ch.Length; i++)
                    {
                        var b = TermOf(ch[i]);
                        if (b.IsConstant) acc = acc.Scale(b.C);
                        else if (acc.IsConstant) acc = b.Scale(acc.C);
                        else throw Error("a product of two variables is not linear; expected (* constant term)", head);
                        acc = Checked(acc, head);
                    }
                    return acc;
                }
            }
        }

        /// <summary>
        /// Tokenizes and builds the expression tree in one pass with an explicit stack of open lists, refusing more
        /// than <see cref="MaxDepth"/> levels, and hands every top-level list to <see cref="Command"/> as it closes.
        /// </summary>
        private void BuildTree()
        {
            var pending = new List<Node>(); // the children of the open lists, innermost last
            var open = new List<(int Start, int Line, int Column)>();
            var names = new Dictionary<string, string>(StringComparer.Ordinal);
            var lookup = names.GetAlternateLookup<ReadOnlySpan<char>>();
            int line = 1, lineStart = 0, i = 0;
            while (i < text.Length)
            {
                char c = text[i];
                if (c == '\n') { line++; i++; lineStart = i; continue; }
                if (char.IsWhiteSpace(c)) { i++; continue; }
                if (c == ';') { while (i < text.Length && text[i] != '\n') i++; continue; }
                int column = i - lineStart + 1;
                if (c == '(')
                {
                    if (open.Count >= MaxDepth)
                        throw new ReassureException(ErrorCodes.VnnLibTooDeep,
                            $"expressions are nested more than {MaxDepth.ToString(CultureInfo.InvariantCulture)} levels deep; expected at most {MaxDepth.ToString(CultureInfo.InvariantCulture)} levels of parentheses",
                            Where(line, column));
                    open.Add((pending.Count, line, column));
                    i++;
                    continue;
                }
                if (c == ')')
                {
                    if (open.Count == 0)
                        throw new ReassureException(ErrorCodes.VnnLibMalformed, "unbalanced ')': no '(' is open; expected '(' or the end of the file", Where(line, column));
                    var (first, openLine, openColumn) = open[^1];
                    open.RemoveAt(open.Count - 1);
                    var children = new Node[pending.Count - first];
                    pending.CopyTo(first, children, 0, children.Length);
                    pending.RemoveRange(first, children.Length);
                    var list = new Node("(", openLine, openColumn, children);
                    if (open.Count == 0) Command(list);
                    else pending.Add(list);
                    i++;
                    continue;
                }
                int start = i;
                while (i < text.Length && !char.IsWhiteSpace(text[i]) && text[i] is not '(' and not ')' and not ';') i++;
                var span = text.AsSpan(start, i - start);
                string token;
                // Names and operators repeat: one string each (a bounded table); numbers are mostly distinct.
                if (char.IsAsciiDigit(span[0]) || (span.Length > 1 && span[0] is '-' or '+' or '.') || names.Count >= 4096) token = span.ToString();
                else if (!lookup.TryGetValue(span, out token!)) { token = span.ToString(); names.Add(token, token); }
                var node = new Node(token, line, column, null);
                if (open.Count == 0) throw Error("a token outside parentheses; expected '(' starting (declare-const ...) or (assert ...)", node);
                pending.Add(node);
            }
            if (open.Count > 0)
                throw new ReassureException(ErrorCodes.VnnLibMalformed,
                    $"unbalanced '(': the file ends with {open.Count.ToString(CultureInfo.InvariantCulture)} expression(s) open, the outermost opened here; expected ')'",
                    Where(open[0].Line, open[0].Column));
        }
    }
}
