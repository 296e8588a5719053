using Reassure.Formats.Onnx;
using Reassure.Formats.VnnLib;
using Reassure.Networks;
using Reassure.Patching;
using Reassure.Regions;
using Reassure.Repair;
using Reassure.Verification;
using Reassure.Specifications;
using Reassure.Lp;

namespace Reassure.Tests.Verification;

[TestClass]
public sealed class VnnLibReaderTests
{
    [TestMethod]
    public void AcasProperty7_IsOneBoxWithTwoUnsafeConjunctions()
    {
        var p = VnnLibReader.Read(TestData.File("vnncomp", "acasxu", "prop_7.vnnlib"));
        Assert.AreEqual(5, p.Inputs);
        Assert.AreEqual(5, p.Outputs);
        Assert.HasCount(1, p.Cases);
        Assert.AreEqual(-0.328422877, p.Cases[0].Box.Lower[0]);
        Assert.AreEqual(0.679857769, p.Cases[0].Box.Upper[0]);
        Assert.HasCount(2, p.Cases[0].Unsafe);
        Assert.HasCount(3, p.Cases[0].Unsafe[0].Constraints);
        // (<= Y_3 Y_0): y3 - y0 <= 0
        var row = p.Cases[0].Unsafe[0].Constraints[0];
        CollectionAssert.AreEqual(new double[] { -1, 0, 0, 1, 0 }, row.A);
        Assert.AreEqual(0, row.B);
    }

    [TestMethod]
    public void MnistProperty_HasNineSingleRowConjunctions()
    {
        var p = VnnLibReader.Read(TestData.File("vnncomp", "mnistfc", "prop_0_0.03.vnnlib"));
        Assert.AreEqual(784, p.Inputs);
        Assert.HasCount(9, p.Cases[0].Unsafe);
        Assert.IsTrue(p.Cases[0].Unsafe.All(c => c.Constraints.Count == 1));
    }

    [TestMethod]
    public void DisjunctionOfInputBoxes_TermsAndScientificNumbers()
    {
        const string text = """
            ; two boxes
            (declare-const X_0 Real)
            (declare-const Y_0 Real)
            (declare-const Y_1 Real)
            (assert (or (and (>= X_0 -1e0) (<= X_0 -0.5)) (and (>= X_0 0.5) (<= X_0 1.0E+0))))
            (assert (<= (+ Y_0 (* 2 Y_1)) (- 3 1)))
            """;
        var p = VnnLibReader.Parse(text, "t.vnnlib");
        Assert.HasCount(2, p.Cases);
        Assert.AreEqual(-1, p.Cases[0].Box.Lower[0]);
        Assert.AreEqual(1, p.Cases[1].Box.Upper[0]);
        CollectionAssert.AreEqual(new double[] { 1, 2 }, p.Cases[0].Unsafe[0].Constraints[0].A);
        Assert.AreEqual(2, p.Cases[0].Unsafe[0].Constraints[0].B);
    }

    [TestMethod]
    public void Malformed_NamesFileLineAndToken()
    {
        const string text = "(declare-const X_0 Real)\n(declare-const Y_0 Real)\n(assert (<= X_0 1))\n(assert (>= X_0 0))\n(assert (<= Y_0 abc))\n";
        var e = Assert.ThrowsExactly<ReassureException>(() => VnnLibReader.Parse(text, "bad.vnnlib"));
        Assert.AreEqual(ErrorCodes.VnnLibMalformed, e.Code);
        StringAssert.Contains(e.Message, "bad.vnnlib:5");
        StringAssert.Contains(e.Message, "'abc'");
        var e2 = Assert.ThrowsExactly<ReassureException>(() => VnnLibReader.Parse("(declare-const X_0 Real)\n(declare-const Y_0 Real)\n(assert (<= X_0 1)", "open.vnnlib"));
        Assert.AreEqual(ErrorCodes.VnnLibMalformed, e2.Code);
        var e3 = Assert.ThrowsExactly<ReassureException>(() => VnnLibReader.Parse("(declare-const X_0 Real)\n(declare-const Y_0 Real)\n(assert (<= X_0 1))\n(assert (<= Y_0 0))", "half.vnnlib"));
        StringAssert.Contains(e3.Message, "lower bound");
    }
}

[TestClass]
public sealed class RegionEnumerationTests
{
    /// <summary>Area of the polygon { x in box : rows }, by clipping the box's square.</summary>
    private static double Area(InputBox box, IReadOnlyList<HalfSpace> rows)
    {
        var poly = new List<(double X, double Y)> { (box.Lower[0], box.Lower[1]), (box.Upper[0], box.Lower[1]), (box.Upper[0], box.Upper[1]), (box.Lower[0], box.Upper[1]) };
        foreach (var r in rows)
        {
            var next = new List<(double X, double Y)>();
            for (int i = 0; i < poly.Count; i++)
            {
                var p = poly[i]; var q = poly[(i + 1) % poly.Count];
                double sp = r.B - r.A[0] * p.X - r.A[1] * p.Y, sq = r.B - r.A[0] * q.X - r.A[1] * q.Y;
                if (sp >= 0) next.Add(p);
                if ((sp >= 0) != (sq >= 0)) { double t = sp / (sp - sq); next.Add((p.X + t * (q.X - p.X), p.Y + t * (q.Y - p.Y))); }
            }
            poly = next;
            if (poly.Count < 3) return 0;
        }
        double a = 0;
        for (int i = 0; i < poly.Count; i++) { var p = poly[i]; var q = poly[(i + 1) % poly.Count]; a += p.X * q.Y - q.X * p.Y; }
        return Math.Abs(a) / 2;
    }

    [TestMethod]
    [DataRow(0)]
    [DataRow(1)]
    [DataRow(2)]
    public void TinyNetworks_RegionsTileTheBox(int which)
    {
        var net = which switch
        {
            0 => TinyNetworks.TwoFourThree(),
            1 => TinyNetworks.Deep(),
            _ => RandomNet(2, [8, 8], 3, seed: 7),
        };
        var box = TinyNetworks.Box;
        var regions = RegionEnumerator.All(net, box);
        Assert.IsGreaterThan(1, regions.Count);
        Assert.AreEqual(regions.Count, regions.Select(r => r.Pattern).Distinct().Count(), "every pattern appears once");
        double total = regions.Sum(r =>
        {
            // the full polytope of the pattern inside the box: every neuron's sign row
            var lr = new LinearRegion(net, r.Pattern, box);
            return Area(box, lr.PolytopeRows());
        });
        Assert.AreEqual(4.0, total, 1e-6, "the regions' areas sum to the box's area");
        // every region is non-empty and its witness has that pattern's affine map
        foreach (var r in regions)
        {
            // the witness is in the closed region (an LP vertex may sit on a face, so within rounding)
            var z = net.PreActivations(r.Witness);
            for (int j = 0; j < z.Length; j++) Assert.IsTrue(r.Pattern[j] ? z[j] >= -1e-9 : z[j] <= 1e-9);
            var y = net.Evaluate(r.Witness);
            for (int o = 0; o < y.Length; o++)
                Assert.AreEqual(y[o], r.OutputOffset[o] + Networks.Blas.Dot(r.OutputMatrix.AsSpan(o * 2, 2), r.Witness), 1e-9);
        }
        // random points fall in exactly one region (up to boundaries)
        foreach (var x in TinyNetworks.RandomPoints(200, 3))
            Assert.IsTrue(regions.Any(r => r.Pattern.Equals(net.Pattern(x))));
    }

    [TestMethod]
    public void Bounds_AreSound()
    {
        var net = RandomNet(3, [10, 10, 10], 2, seed: 11);
        var box = InputBox.Uniform(3, -1, 1);
        var b = LinearBounds.Compute(net, box);
        foreach (var x in TinyNetworks.RandomPoints(2000, 5, box))
        {
            var z = net.PreActivations(x);
            for (int j = 0; j < z.Length; j++) Assert.IsTrue(z[j] >= b.Lower[j] - 1e-9 && z[j] <= b.Upper[j] + 1e-9);
            var (lb, _, _) = LinearBounds.OutputLowerBound(net, box, b, [1, -1]);
            var y = net.Evaluate(x);
            Assert.IsGreaterThanOrEqualTo(lb - 1e-9, y[0] - y[1]);
        }
    }

    internal static Network RandomNet(int inputs, int[] hidden, int outputs, int seed)
    {
        var rng = new Random(seed);
        var layers = new List<DenseLayer>();
        int prev = inputs;
        foreach (var h in hidden.Append(outputs))
        {
            var w = Enumerable.Range(0, h * prev).Select(_ => rng.NextDouble() * 2 - 1).ToArray();
            var bias = Enumerable.Range(0, h).Select(_ => rng.NextDouble() - 0.5).ToArray();
            layers.Add(new DenseLayer(prev, h, w, bias, relu: layers.Count < hidden.Length));
            prev = h;
        }
        return new Network(layers);
    }
}

[TestClass]
public sealed class PropertyVerifierTests
{
    private static VerificationResult Run(string net, string prop, double seconds = 60) =>
        PropertyVerifier.Verify(OnnxImporter.Load(TestData.File("vnncomp", "acasxu", $"ACASXU_run2a_{net}_batch_2000.onnx")).Network,
            VnnLibReader.Read(TestData.File("vnncomp", "acasxu", $"prop_{prop}.vnnlib")), new VerificationOptions { MaxTime = TimeSpan.FromSeconds(seconds) });

    [TestMethod]
    [DataRow("1_1", "1", "holds")]
    [DataRow("2_1", "3", "holds")]
    [DataRow("1_1", "3", "holds")]
    [DataRow("2_1", "2", "violated")]
    [DataRow("1_9", "4", "violated")]
    public void AcasXu_AgreesWithExpectedResults(string net, string prop, string expected)
    {
        var r = Run(net, prop);
        Assert.AreEqual(expected, r.StatusText, r.Detail);
        if (r.Status == VerificationStatus.Violated)
        {
            var p = VnnLibReader.Read(TestData.File("vnncomp", "acasxu", $"prop_{prop}.vnnlib"));
            Assert.IsTrue(p.Cases[0].Box.Contains(r.Counterexample!));
            var n = OnnxImporter.Load(TestData.File("vnncomp", "acasxu", $"ACASXU_run2a_{net}_batch_2000.onnx")).Network;
            Assert.IsTrue(p.Cases[0].IsUnsafe(n.Evaluate(r.Counterexample!)), "the plain evaluator confirms the counterexample");
        }
    }

    [TestMethod]
    public void TimeBudget_GivesUnknownNotAWrongAnswer()
    {
        var r = PropertyVerifier.Verify(OnnxImporter.Load(TestData.File("vnncomp", "acasxu", "ACASXU_run2a_3_3_batch_2000.onnx")).Network,
            VnnLibReader.Read(TestData.File("vnncomp", "acasxu", "prop_2.vnnlib")), new VerificationOptions { MaxTime = TimeSpan.FromSeconds(1) });
        Assert.AreEqual(VerificationStatus.Unknown, r.Status);
        Assert.AreEqual("seconds", r.Budget);
    }

    [TestMethod]
    public void Hcas_Tau20Area_165Regions87Violating_RepairedAreaProvedToHold()
    {
        var net = OnnxImporter.Load(TestData.File("models", "hcas-pra1-tau20.onnx")).Network;
        string text = "(declare-const X_0 Real)(declare-const X_1 Real)(declare-const X_2 Real)" +
            string.Concat(Enumerable.Range(0, 5).Select(j => $"(declare-const Y_{j} Real)")) +
            "(assert (>= X_0 10)) (assert (<= X_0 5000)) (assert (>= X_1 10)) (assert (<= X_1 5000))" +
            $"(assert (>= X_2 {(-Math.PI).ToString("R", System.Globalization.CultureInfo.InvariantCulture)})) (assert (<= X_2 {(-Math.PI / 2).ToString("R", System.Globalization.CultureInfo.InvariantCulture)}))" +
            "(assert (or (and (>= Y_0 Y_4)) (and (>= Y_1 Y_4)) (and (>= Y_2 Y_4)) (and (>= Y_3 Y_4))))";
        var prop = VnnLibReader.Parse(text, "hcas");
        Assert.HasCount(165, RegionEnumerator.All(net, prop.Cases[0].Box));
        var r = AreaRepairer.Repair(net, prop, new AreaRepairOptions { Verification = new VerificationOptions { MaxUnstableForExact = 1000 } });
        Assert.AreEqual(87, r.RegionsFound);
        Assert.AreEqual(87, r.Patched);
        Assert.IsEmpty(r.Errors);
        Assert.AreEqual(VerificationStatus.Holds, r.After.Status, r.After.Detail);
        // NSE: sampled points of repaired regions no longer violate
        var patched = r.Repaired.Patches.Select(p => p.Region.Pattern).ToHashSet();
        int inside = 0;
        foreach (var x in TinyNetworks.RandomPoints(5000, 9, prop.Cases[0].Box))
        {
            if (!patched.Contains(net.Pattern(x))) continue;
            inside++;
            Assert.IsFalse(prop.Cases[0].IsUnsafe(r.Repaired.Evaluate(x)));
        }
        Assert.IsGreaterThan(1000, inside);
    }

    [TestMethod]
    public void AreaCertificate_ProvesATinyRepairAndRejectsACorruptedOne()
    {
        var net = TinyNetworks.TwoFourThree();
        string text = "(declare-const X_0 Real)(declare-const X_1 Real)(declare-const Y_0 Real)(declare-const Y_1 Real)(declare-const Y_2 Real)" +
            "(assert (>= X_0 -1)) (assert (<= X_0 1)) (assert (>= X_1 -1)) (assert (<= X_1 1))" +
            "(assert (or (and (>= Y_0 Y_2)) (and (>= Y_1 Y_2))))";
        var prop = VnnLibReader.Parse(text, "tiny");
        var r = AreaRepairer.Repair(net, prop);
        Assert.IsTrue(r.Patched > 0);
        Assert.AreEqual(VerificationStatus.Holds, r.After.Status, r.After.Detail);
        foreach (var x in TinyNetworks.RandomPoints(4000, 5)) Assert.IsFalse(prop.Cases[0].IsUnsafe(r.Repaired.Evaluate(x)), $"({x[0]}, {x[1]})");

        IReadOnlyList<IReadOnlyList<RegionPiece>> regions = [RegionEnumerator.All(net, prop.Cases[0].Box)];
        var specs = r.Repaired.Patches.Select(_ => new ClassificationSpecification(2, 1e-4).ToLinear(3)).ToList();
        Assert.IsTrue(AreaCertificate.Check(r.Repaired, prop, specs, regions).Holds);
        var corrupted = new RepairedNetwork(net, r.Repaired.Domain, r.Repaired.Patches
            .Select(p => (p.Region, new AffinePatch(2, null, p.Patch.D.Select(v => v * 0.5).ToArray()), p.Support, p.Norm)).ToList());
        var bad = AreaCertificate.Check(corrupted, prop, specs, regions);
        Assert.IsFalse(bad.Holds, bad.Detail);
    }
}
