using System.Diagnostics;
using System.Globalization;
using System.Text;
using CsCheck;
using Reassure.Formats.VnnLib;
using Reassure.Specifications;

namespace Reassure.Tests.Formats;

/// <summary>
/// Hostile and malformed VNN-LIB input (issue 15, item 6): every failure is a <see cref="ReassureException"/> with a
/// stable code and file:line:column, the caps are checked before the memory they guard is allocated, parsing is linear,
/// and the hardened reader gives the same property as the old one (<see cref="LegacyVnnLibReader"/>) wherever that one
/// succeeded.
/// </summary>
[TestClass]
public sealed class VnnLibHostileTests
{
    public TestContext TestContext { get; set; } = null!;

    /// <summary>ACAS Xu property 7 as distributed with VNN-COMP (comments shortened): one box, two unsafe conjunctions.</summary>
    private const string AcasProp7 = """
        ; ACAS Xu property 7
        (declare-const X_0 Real)
        (declare-const X_1 Real)
        (declare-const X_2 Real)
        (declare-const X_3 Real)
        (declare-const X_4 Real)

        (declare-const Y_0 Real)
        (declare-const Y_1 Real)
        (declare-const Y_2 Real)
        (declare-const Y_3 Real)
        (declare-const Y_4 Real)

        ; Unscaled Input 0: (0, 60760)
        (assert (<= X_0 0.679857769))
        (assert (>= X_0 -0.328422877))
        (assert (<= X_1 0.499999896))
        (assert (>= X_1 -0.499999896))
        (assert (<= X_2 0.499999896))
        (assert (>= X_2 -0.499999896))
        (assert (<= X_3 0.5))
        (assert (>= X_3 -0.5))
        (assert (<= X_4 0.5))
        (assert (>= X_4 -0.5))

        ; unsafe if strong left is minimial or strong right is minimal
        (assert (or
            (and (<= Y_3 Y_0) (<= Y_3 Y_1) (<= Y_3 Y_2))
            (and (<= Y_4 Y_0) (<= Y_4 Y_1) (<= Y_4 Y_2))
        ))
        """;

    /// <summary>ACAS Xu property 6 (VNN-COMP 2021 form): two input boxes in one <c>or</c>, one unsafe set.</summary>
    private const string AcasProp6 = """
        ; ACAS Xu property 6
        (declare-const X_0 Real)
        (declare-const X_1 Real)
        (declare-const X_2 Real)
        (declare-const X_3 Real)
        (declare-const X_4 Real)
        (declare-const Y_0 Real)
        (declare-const Y_1 Real)
        (declare-const Y_2 Real)
        (declare-const Y_3 Real)
        (declare-const Y_4 Real)
        (assert (or
            (and (>= X_0 -0.129289109) (<= X_0 0.700434925) (>= X_1 -0.499999896) (<= X_1 -0.11140846)
                 (>= X_2 -0.499999896) (<= X_2 -0.499204121) (>= X_3 -0.5) (<= X_3 0.5) (>= X_4 -0.5) (<= X_4 0.5))
            (and (>= X_0 -0.129289109) (<= X_0 0.700434925) (>= X_1 0.11140846) (<= X_1 0.499999896)
                 (>= X_2 -0.499999896) (<= X_2 -0.499204121) (>= X_3 -0.5) (<= X_3 0.5) (>= X_4 -0.5) (<= X_4 0.5))
        ))
        (assert (or
            (and (<= Y_1 Y_0))
            (and (<= Y_2 Y_0))
            (and (<= Y_3 Y_0))
            (and (<= Y_4 Y_0))
        ))
        """;

    /// <summary>A property exercising the rest of the grammar: terms, =, strict comparisons, shared asserts after an or.</summary>
    private const string Mixed = """
        (declare-const X_0 Real)
        (declare-const X_1 Real)
        (declare-const Y_0 Real)
        (declare-const Y_1 Real)
        (declare-const Y_2 Real)
        (assert (>= X_1 -1))
        (assert (or (and (>= X_0 -1e0) (<= X_0 -0.5)) (and (>= (* 2 X_0) 1.0) (< X_0 1.0E+0)) (and (> X_0 -1) (<= (- X_0) 0.5) (<= X_0 0.25))))
        (assert (<= (+ Y_0 (* 2 Y_1)) (- 3 1)))
        (assert (or (= Y_2 (* 0.5 Y_0)) (and (>= Y_1 Y_2) (<= 1 1))))
        (assert (<= X_1 (+ 1 1)))
        (assert (>= (- Y_0 Y_1 Y_2) -7.25))
        """;

    private static string Declarations(int n, int m)
    {
        var sb = new StringBuilder();
        for (int i = 0; i < n; i++) sb.Append(CultureInfo.InvariantCulture, $"(declare-const X_{i} Real)\n");
        for (int j = 0; j < m; j++) sb.Append(CultureInfo.InvariantCulture, $"(declare-const Y_{j} Real)\n");
        return sb.ToString();
    }

    private static string UnitBox(int n)
    {
        var sb = new StringBuilder();
        for (int i = 0; i < n; i++) sb.Append(CultureInfo.InvariantCulture, $"(assert (>= X_{i} 0))\n(assert (<= X_{i} 1))\n");
        return sb.ToString();
    }

    private static ReassureException Fails(string text, string code)
    {
        var e = Assert.ThrowsExactly<ReassureException>(() => VnnLibReader.Parse(text, "hostile.vnnlib"));
        Assert.AreEqual(code, e.Code, e.Message);
        StringAssert.Contains(e.Message, "hostile.vnnlib");
        return e;
    }

    /// <summary>The two readers' results are the same property (boxes, rows and their order).</summary>
    private static void AssertSame(VnnLibProperty expected, VnnLibProperty actual)
    {
        Assert.AreEqual(expected.Inputs, actual.Inputs);
        Assert.AreEqual(expected.Outputs, actual.Outputs);
        Assert.HasCount(expected.Cases.Count, actual.Cases);
        for (int c = 0; c < expected.Cases.Count; c++)
        {
            var (e, a) = (expected.Cases[c], actual.Cases[c]);
            Assert.IsTrue(e.Box.Lower.AsSpan().SequenceEqual(a.Box.Lower) && e.Box.Upper.AsSpan().SequenceEqual(a.Box.Upper), $"box of case {c}");
            Assert.HasCount(e.Unsafe.Count, a.Unsafe);
            for (int k = 0; k < e.Unsafe.Count; k++)
            {
                Assert.HasCount(e.Unsafe[k].Constraints.Count, a.Unsafe[k].Constraints);
                for (int r = 0; r < e.Unsafe[k].Constraints.Count; r++)
                {
                    var (er, ar) = (e.Unsafe[k].Constraints[r], a.Unsafe[k].Constraints[r]);
                    Assert.AreEqual(er.B, ar.B, $"case {c} conjunction {k} row {r}");
                    Assert.HasCount(er.A.Length, ar.A);
                    for (int j = 0; j < er.A.Length; j++) Assert.AreEqual(er.A[j], ar.A[j], $"case {c} conjunction {k} row {r} coefficient {j}");
                }
            }
        }
    }

    // ---- 1. nesting ----------------------------------------------------------------------------------------------

    [TestMethod]
    public void TenThousandNestedAnds_AreRefusedWithoutStackOverflow()
    {
        string text = Declarations(1, 1) + "(assert " + string.Concat(Enumerable.Repeat("(and ", 10_000)) + "(<= X_0 1)" + new string(')', 10_001);
        var e = Fails(text, ErrorCodes.VnnLibTooDeep);
        StringAssert.Contains(e.Message, "hostile.vnnlib:3:"); // line 3, the column of the 257th '('
        StringAssert.Contains(e.Message, "256");
        // Unbalanced as well: the depth limit is reported first, while reading.
        Fails(Declarations(1, 1) + new string('(', 100_000), ErrorCodes.VnnLibTooDeep);
    }

    [TestMethod]
    public void NestingUpToTheLimit_IsAccepted()
    {
        // assert (level 1) + k ands + the comparison (level k + 2): k = 254 reaches 256 exactly.
        static string Nested(int k) => Declarations(1, 1) + "(assert (>= X_0 0))(assert " + string.Concat(Enumerable.Repeat("(and ", k)) +
            "(<= X_0 1)" + new string(')', k + 1) + "(assert (<= Y_0 0))";
        var p = VnnLibReader.Parse(Nested(VnnLibReader.MaxDepth - 2), "deep.vnnlib");
        Assert.AreEqual(1.0, p.Cases[0].Box.Upper[0]);
        Fails(Nested(VnnLibReader.MaxDepth - 1), ErrorCodes.VnnLibTooDeep);
    }

    // ---- 2. disjuncts and variables ------------------------------------------------------------------------------

    private static string Ors(int count) =>
        string.Concat(Enumerable.Range(0, count).Select(k => string.Create(CultureInfo.InvariantCulture, $"(or (<= Y_0 {k}) (>= Y_1 {k})) ")));

    [TestMethod]
    public void TwentyTwoOrsInOneAnd_AreRefusedBeforeExpanding()
    {
        var clock = Stopwatch.StartNew();
        long before = GC.GetAllocatedBytesForCurrentThread();
        var e = Fails(Declarations(1, 2) + UnitBox(1) + "(assert (and " + Ors(22) + "))", ErrorCodes.VnnLibTooManyDisjuncts);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        StringAssert.Contains(e.Message, "4194304");
        StringAssert.Contains(e.Message, "65536");
        Assert.IsLessThan(1_000_000, allocated, "refused before expanding");
        Assert.IsLessThan(5_000, clock.ElapsedMilliseconds);
        // The same across asserts, and far beyond double range (2^2000 conjunctions) without overflow.
        Fails(Declarations(1, 2) + UnitBox(1) + string.Concat(Enumerable.Range(0, 17).Select(k => $"(assert {Ors(1)})")), ErrorCodes.VnnLibTooManyDisjuncts);
        Fails(Declarations(1, 2) + UnitBox(1) + "(assert (and " + Ors(2000) + "))", ErrorCodes.VnnLibTooManyDisjuncts);
    }

    [TestMethod]
    public void SixteenOrs_ExpandToExactlyTheCap()
    {
        var p = VnnLibReader.Parse(Declarations(1, 2) + UnitBox(1) + "(assert (and " + Ors(16) + "))", "cap.vnnlib");
        Assert.HasCount(1, p.Cases);
        Assert.HasCount(VnnLibReader.MaxDisjuncts, p.Cases[0].Unsafe);
        Assert.IsTrue(p.Cases[0].Unsafe.All(c => c.Constraints.Count == 16));
        Fails(Declarations(1, 2) + UnitBox(1) + "(assert (and " + Ors(17) + "))", ErrorCodes.VnnLibTooManyDisjuncts);
    }

    [TestMethod]
    public void ExpansionSize_IsCappedBeforeExpanding()
    {
        // 2^10 conjunctions (under the disjunct cap) times 20 000 shared output rows: 2e7 row occurrences > 2^24.
        var rows = string.Concat(Enumerable.Range(0, 20_000).Select(k => string.Create(CultureInfo.InvariantCulture, $"(assert (<= Y_0 {k}))")));
        var e = Fails(Declarations(1, 2) + UnitBox(1) + rows + "(assert (and " + Ors(10) + "))", ErrorCodes.VnnLibTooManyDisjuncts);
        StringAssert.Contains(e.Message, "atom occurrences");
        // Many boxes of many inputs: 2^10 boxes of 20 000 inputs need 4e7 doubles > 2^25.
        var xOrs = string.Concat(Enumerable.Range(0, 10).Select(k => string.Create(CultureInfo.InvariantCulture, $"(assert (or (<= X_0 0.{k + 1}) (<= X_1 0.{k + 1})))")));
        var e2 = Fails(Declarations(20_000, 1) + UnitBox(20_000) + xOrs + "(assert (<= Y_0 0))", ErrorCodes.VnnLibTooManyDisjuncts);
        StringAssert.Contains(e2.Message, "dense");
    }

    [TestMethod]
    public void HugeVariableIndex_IsRefusedBeforeAllocating()
    {
        long before = GC.GetAllocatedBytesForCurrentThread();
        var e = Fails("(declare-const X_0 Real)\n(declare-const Y_200000000 Real)\n(assert (<= X_0 1))", ErrorCodes.VnnLibTooManyVariables);
        Assert.IsLessThan(1_000_000, GC.GetAllocatedBytesForCurrentThread() - before);
        StringAssert.Contains(e.Message, "hostile.vnnlib:2:16");
        StringAssert.Contains(e.Message, "Y_200000000");
        Fails("(declare-const X_99999999999999999999999999 Real)", ErrorCodes.VnnLibTooManyVariables);
        Fails("(declare-const X_10000000 Real)", ErrorCodes.VnnLibTooManyVariables);
        // Just under the cap, but X_0 .. X_9999998 are not declared: refused by count, nothing of size n allocated.
        before = GC.GetAllocatedBytesForCurrentThread();
        var gap = Fails("(declare-const X_9999999 Real)(declare-const Y_0 Real)(assert (<= X_9999999 1))", ErrorCodes.VnnLibMalformed);
        Assert.IsLessThan(1_000_000, GC.GetAllocatedBytesForCurrentThread() - before);
        StringAssert.Contains(gap.Message, "without gaps");
        Fails("(declare-const X_0 Real)(declare-const Y_3 Real)(assert (<= X_0 1))", ErrorCodes.VnnLibMalformed);
    }

    // ---- 3. linear time ------------------------------------------------------------------------------------------

    private static string ManyAsserts(int count)
    {
        var sb = new StringBuilder(Declarations(5, 5));
        sb.Append(UnitBox(5));
        for (int k = 0; k < count; k++)
            sb.Append(CultureInfo.InvariantCulture, $"(assert (<= (+ Y_{k % 5} (* 2 Y_{(k + 1) % 5})) {k}.5))\n");
        return sb.ToString();
    }

    /// <summary>Wall-clock and process CPU seconds of one parse (CPU time is what the guard uses: the machine may be shared).</summary>
    private static (double Wall, double Cpu) Seconds(Func<VnnLibProperty> parse, int rows)
    {
        var cpu = Process.GetCurrentProcess().TotalProcessorTime;
        var clock = Stopwatch.StartNew();
        var p = parse();
        double wall = clock.Elapsed.TotalSeconds;
        double used = (Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalSeconds;
        Assert.HasCount(rows, p.Cases[0].Unsafe[0].Constraints);
        return (wall, used);
    }

    [TestMethod]
    [DoNotParallelize]
    public void HundredThousandAsserts_ParseInLinearTime()
    {
        string small = ManyAsserts(10_000), large = ManyAsserts(100_000);
        VnnLibReader.Parse(small, "warm-up");
        var t4 = Seconds(() => VnnLibReader.Parse(small, "1e4"), 10_000);
        var t5 = Seconds(() => VnnLibReader.Parse(large, "1e5"), 100_000);
        var legacy4 = Seconds(() => LegacyVnnLibReader.Parse(small, "1e4"), 10_000);
        TestContext.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"VNN-LIB parse (wall / process CPU): 1e4 asserts {t4.Wall:F3} / {t4.Cpu:F3} s, 1e5 asserts {t5.Wall:F3} / {t5.Cpu:F3} s ({large.Length / 1e6:F1} MB); old reader 1e4 asserts {legacy4.Wall:F3} / {legacy4.Cpu:F3} s"));
        if (Environment.GetEnvironmentVariable("REASSURE_VNNLIB_LEGACY_1E5") == "1") // the old reader is quadratic: tens of seconds
        {
            var legacy5 = Seconds(() => LegacyVnnLibReader.Parse(large, "1e5"), 100_000);
            TestContext.WriteLine(string.Create(CultureInfo.InvariantCulture, $"old reader 1e5 asserts {legacy5.Wall:F3} / {legacy5.Cpu:F3} s"));
        }
        Assert.IsLessThan(10.0, t5.Cpu, "a generous guard only; the measured time is printed above");
    }

    [TestMethod]
    public void WideSums_AreLinear()
    {
        // One row over 100 000 outputs: a fold of pairwise sums would be quadratic in the number of variables.
        const int m = 100_000;
        var ys = string.Join(' ', Enumerable.Range(0, m).Select(j => string.Create(CultureInfo.InvariantCulture, $"Y_{j}")));
        var clock = Stopwatch.StartNew();
        var p = VnnLibReader.Parse(Declarations(1, m) + UnitBox(1) + $"(assert (<= (+ {ys} Y_0) 1))(assert (>= (- Y_1 {ys}) -2))", "wide.vnnlib");
        Assert.IsLessThan(10.0, clock.Elapsed.TotalSeconds);
        var rows = p.Cases[0].Unsafe[0].Constraints;
        Assert.AreEqual(2.0, rows[0].A[0]);
        Assert.AreEqual(1.0, rows[0].A[m - 1]);
        Assert.AreEqual(1.0, rows[1].A[0]);
        Assert.AreEqual(0.0, rows[1].A[1]);
        Assert.AreEqual(1.0, rows[1].A[2]);
        Assert.AreEqual(2.0, rows[1].B);
    }

    // ---- 4. malformed input: a code, file:line:column and what was expected, never a bare .NET exception -----------

    [TestMethod]
    public void MalformedInputs_GiveVnnLibMalformedWithLocation()
    {
        string head = Declarations(1, 2) + UnitBox(1); // 5 lines
        (string Text, string Where, string Says)[] cases =
        [
            ("", "hostile.vnnlib", "empty"),
            ("  ; only a comment\n\n", "hostile.vnnlib", "empty"),
            (head + "(assert (<= Y_0 1)))", "hostile.vnnlib:6:20", "unbalanced ')'"),
            (head + "(assert (or (<= Y_0 1)\n  (<= Y_1 2)", "hostile.vnnlib:6:1", "unbalanced '('"),
            (head + "(assert (xor (<= Y_0 1) (<= Y_1 1)))", "hostile.vnnlib:6:10", "'xor'"),
            (head + "(assert (<= (/ Y_0 2) 1))", "hostile.vnnlib:6:14", "'/'"),
            (head + "(assert (<= Y_0 1e400))", "hostile.vnnlib:6:17", "'1e400'"),
            (head + "(assert (<= Y_0 NaN))", "hostile.vnnlib:6:17", "'NaN'"),
            (head + "(assert (<= Y_0 -Infinity))", "hostile.vnnlib:6:17", "'-Infinity'"),
            (head + "(assert (<= Y_0 1,5))", "hostile.vnnlib:6:17", "'1,5'"),
            (head + "(assert (<= Y_0 0x10))", "hostile.vnnlib:6:17", "'0x10'"),
            (head + "(assert (<= Y_7 1))", "hostile.vnnlib:6:13", "'Y_7'"),
            (head + "(assert (<= Y_0 1) (<= Y_1 1))", "hostile.vnnlib:6:2", "exactly one formula"),
            (head + "(assert (<= Y_0))", "hostile.vnnlib:6:10", "two terms"),
            (head + "(assert (<= (* Y_0 Y_1) 1))", "hostile.vnnlib:6:14", "not linear"),
            (head + "(assert (<= (* 1e300 1e300 Y_0) 1))", "hostile.vnnlib:6:14", "overflows"),
            (head + "(assert (<= (* 1e-300 X_0) 1e300))", "hostile.vnnlib:6:10", "finite bound"),
            (head + "(assert (<= X_0 Y_0))", "hostile.vnnlib:6:10", "mixing"),
            (head + "(assert ())", "hostile.vnnlib:6:9", "empty list"),
            (head + "(assert (or))", "hostile.vnnlib:6:10", "at least one"),
            (head + "(push 1)", "hostile.vnnlib:6:2", "'push'"),
            (head + "()", "hostile.vnnlib:6:1", "expected (declare-const"),
            (head + "assert", "hostile.vnnlib:6:1", "outside parentheses"),
            (head + "(declare-const X_0 Real)", "hostile.vnnlib:6:16", "declared twice"),
            (head + "(declare-const X_01 Real)", "hostile.vnnlib:6:16", "leading zeros"),
            (head + "(declare-const Z_0 Real)", "hostile.vnnlib:6:16", "X_i"),
            (head + "(declare-const Y_2 Int)", "hostile.vnnlib:6:20", "Real"),
            (head + "(declare-const Y_2)", "hostile.vnnlib:6:1", "(declare-const NAME Real)"),
            ("(declare-const Y_0 Real)(assert (<= Y_0 1))", "hostile.vnnlib", "no input"),
            ("(declare-const X_0 Real)(assert (<= X_0 1))", "hostile.vnnlib", "no output"),
            (head + "(assert (<= X_0 -1))", "hostile.vnnlib", "unsatisfiable"),
            (head + "(assert (<= 1 0))", "hostile.vnnlib", "unsatisfiable"),
        ];
        foreach (var (text, where, says) in cases)
        {
            var e = Assert.ThrowsExactly<ReassureException>(() => VnnLibReader.Parse(text, "hostile.vnnlib"), text);
            Assert.AreEqual(ErrorCodes.VnnLibMalformed, e.Code, e.Message);
            StringAssert.Contains(e.Message, where + ":", e.Message.Replace(where + ":", "?", StringComparison.Ordinal));
            StringAssert.Contains(e.Message, says, e.Message);
        }
    }

    [TestMethod]
    public void Read_MissingOrUnreadableFile_IsFileUnreadable()
    {
        Assert.AreEqual(ErrorCodes.FileUnreadable, Assert.ThrowsExactly<ReassureException>(() => VnnLibReader.Read(Path.Combine(Path.GetTempPath(), "no-such-file.vnnlib"))).Code);
        Assert.AreEqual(ErrorCodes.FileUnreadable, Assert.ThrowsExactly<ReassureException>(() => VnnLibReader.Read(Path.GetTempPath())).Code);
    }

    [TestMethod]
    public void Numbers_AreReadWithTheInvariantCulture()
    {
        var saved = CultureInfo.CurrentCulture;
        try
        {
            // The build uses invariant globalization; a culture with ',' as decimal separator is built by hand.
            var comma = (CultureInfo)CultureInfo.InvariantCulture.Clone();
            comma.NumberFormat.NumberDecimalSeparator = ",";
            comma.NumberFormat.NumberGroupSeparator = ".";
            CultureInfo.CurrentCulture = comma;
            var p = VnnLibReader.Parse(Declarations(1, 1) + "(assert (>= X_0 -0.25))(assert (<= X_0 1.5e-1))(assert (<= Y_0 2.5))", "t");
            Assert.AreEqual(-0.25, p.Cases[0].Box.Lower[0]);
            Assert.AreEqual(0.15, p.Cases[0].Box.Upper[0]);
            Assert.AreEqual(2.5, p.Cases[0].Unsafe[0].Constraints[0].B);
        }
        finally { CultureInfo.CurrentCulture = saved; }
    }

    // ---- 5. same result as before ---------------------------------------------------------------------------------

    [TestMethod]
    public void RealProperties_ParseAsBefore()
    {
        foreach (var parts in new[] { new[] { "acasxu", "prop_2.vnnlib" }, ["acasxu", "prop_7.vnnlib"], ["mnistfc", "prop_0_0.03.vnnlib"] })
        {
            string path = TestData.File(["vnncomp", .. parts]);
            var text = File.ReadAllText(path);
            AssertSame(LegacyVnnLibReader.Parse(text, path), VnnLibReader.Read(path));
        }
        var mnist = VnnLibReader.Read(TestData.File("vnncomp", "mnistfc", "prop_0_0.03.vnnlib"));
        Assert.AreEqual(784, mnist.Inputs);
        Assert.HasCount(1, mnist.Cases);
        Assert.HasCount(9, mnist.Cases[0].Unsafe);
    }

    [TestMethod]
    public void InlineProperties_ParseAsBefore()
    {
        foreach (var text in new[] { AcasProp7, AcasProp6, Mixed, ManyAsserts(200) })
            AssertSame(LegacyVnnLibReader.Parse(text, "t"), VnnLibReader.Parse(text, "t"));
        var p6 = VnnLibReader.Parse(AcasProp6, "prop_6");
        Assert.HasCount(2, p6.Cases);
        Assert.IsTrue(p6.Cases.All(c => c.Unsafe.Count == 4));
        var p7 = VnnLibReader.Parse(AcasProp7, "prop_7");
        Assert.HasCount(1, p7.Cases);
        Assert.HasCount(2, p7.Cases[0].Unsafe);
        var mixed = VnnLibReader.Parse(Mixed, "mixed");
        Assert.HasCount(3, mixed.Cases);
        Assert.IsTrue(mixed.Cases.All(c => c.Unsafe.Count == 2));
        // The same box written twice in an or is one case (as before); a box emptied by its bounds is dropped.
        const string twice = "(declare-const X_0 Real)(declare-const Y_0 Real)(assert (or (and (>= X_0 0) (<= X_0 1) (<= Y_0 1)) (and (<= X_0 1) (>= X_0 0) (<= Y_0 2)) (and (>= X_0 3) (<= X_0 2))))";
        AssertSame(LegacyVnnLibReader.Parse(twice, "t"), VnnLibReader.Parse(twice, "t"));
        Assert.HasCount(2, VnnLibReader.Parse(twice, "t").Cases[0].Unsafe);
    }

    // ---- 6. fuzz ---------------------------------------------------------------------------------------------------

    private const string Alphabet = "()()  \n;_XY0123456789.-+eE<=>*andorsetclRl";

    /// <summary>
    /// Applies (kind, position, char) edits: 0 inserts, 1 deletes a run of up to 8 chars, 2 replaces a char, 3 replaces the
    /// next digit by another (keeps the text well formed more often, so the old and new results get compared).
    /// </summary>
    private static string Mutate(string text, (int Kind, int Position, int Char)[] edits)
    {
        var sb = new StringBuilder(text);
        foreach (var (kind, position, ch) in edits)
        {
            int at = position % (sb.Length + 1);
            char c = ch < Alphabet.Length * 3 ? Alphabet[ch % Alphabet.Length] : (char)(ch % 0x10000);
            if (kind == 0 || sb.Length == 0) sb.Insert(at, c);
            else if (kind == 3)
            {
                int d = at;
                while (d < sb.Length && !char.IsAsciiDigit(sb[d])) d++;
                if (d < sb.Length) sb[d] = (char)('0' + ch % 10);
            }
            else if (kind == 1) sb.Remove(Math.Min(at, sb.Length - 1), Math.Min(1 + ch % 8, sb.Length - Math.Min(at, sb.Length - 1)));
            else sb[Math.Min(at, sb.Length - 1)] = c;
        }
        return sb.ToString();
    }

    [TestMethod]
    public void MutatedProperties_OnlyEverThrowReassureException_AndAgreeWithTheOldReader()
    {
        string[] seeds = [AcasProp7, AcasProp6, Mixed];
        int accepted = 0, total = 0;
        var gen = Gen.Select(Gen.Int[0, seeds.Length - 1], Gen.Select(Gen.Int[0, 3], Gen.Int[0, int.MaxValue], Gen.Int[0, 200]).Array[1, 6]);
        var clock = Stopwatch.StartNew();
        gen.Sample((seed, edits) =>
        {
            string text = Mutate(seeds[seed], edits);
            VnnLibProperty? actual = null;
            try { actual = VnnLibReader.Parse(text, "fuzz.vnnlib"); }
            catch (ReassureException e) when (e.Code is ErrorCodes.VnnLibMalformed or ErrorCodes.VnnLibTooDeep or ErrorCodes.VnnLibTooManyDisjuncts or ErrorCodes.VnnLibTooManyVariables)
            {
                if (!e.Message.Contains("fuzz.vnnlib", StringComparison.Ordinal)) throw new InvalidOperationException("no file in " + e.Message);
            }
            Interlocked.Increment(ref total);
            if (actual is null) return;
            Interlocked.Increment(ref accepted);
            VnnLibProperty? expected;
            try { expected = LegacyVnnLibReader.Parse(text, "fuzz.vnnlib"); }
            catch (ReassureException) { throw new InvalidOperationException("accepted by the new reader only:\n" + text); }
            AssertSame(expected, actual);
        }, iter: 3000, threads: 1);
        TestContext.WriteLine(string.Create(CultureInfo.InvariantCulture, $"fuzz: {total} cases, {accepted} accepted, {clock.Elapsed.TotalSeconds:F2} s"));
        Assert.AreEqual(3000, total);
        Assert.IsLessThan(10.0, clock.Elapsed.TotalSeconds);
    }
}
