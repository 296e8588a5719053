using Google.OrTools.LinearSolver;
using Microsoft.ML.OnnxRuntime;
using Reassure.Formats.Onnx;
using Reassure.Networks;
using Reassure.Patching;
using Reassure.Regions;
using Reassure.Repair;
using Reassure.Specifications;

namespace Reassure.Tests.Repair;

/// <summary>The guarantees of method.md §6 on tiny hand-checkable networks.</summary>
[TestClass]
public sealed class GuaranteeTests
{
    private static readonly RepairOptions Options = new() { Float32Evaluator = OnnxRuntimeFloat32Evaluator.Instance, Gamma = 1.0, MaxDegreeOfParallelism = 1 };

    /// <summary>Buggy points: every point whose argmax is not the label we require.</summary>
    private static List<BuggyInput> Buggy(Network net, int count, int seed, Func<double[], int> label)
    {
        var list = new List<BuggyInput>();
        foreach (var x in TinyNetworks.RandomPoints(4000, seed))
        {
            if (TinyNetworks.ArgMax(net.Evaluate(x)) == label(x)) continue;
            list.Add(new BuggyInput(x, new ClassificationSpecification(label(x), 0.01), $"p{list.Count}"));
            if (list.Count == count) break;
        }
        return list;
    }

    [TestMethod]
    public void Soundness_EveryBuggyInputMeetsItsSpecificationInDoubleAndFloat32()
    {
        var net = TinyNetworks.TwoFourThree();
        var buggy = Buggy(net, 12, 1, _ => 2);
        Assert.IsTrue(buggy.Count >= 5, "need buggy points");
        var result = Repairer.Repair(net, buggy, Options);
        foreach (var s in result.Inputs)
        {
            Assert.IsTrue(s.Fixed, $"input {s.Id}: {s.Message}");
            Assert.AreEqual(true, s.FixedFloat32, $"input {s.Id} in float32");
            var y = result.Network.Evaluate(buggy[s.Index].Input);
            Assert.AreEqual(2, TinyNetworks.ArgMax(y));
        }
    }

    [TestMethod]
    public void PolytopeRowSupport_FixesEveryInputAndKeepsLocality()
    {
        var net = TinyNetworks.Deep();
        var buggy = Buggy(net, 6, 13, x => x[0] > 0 ? 0 : 1);
        var result = Repairer.Repair(net, buggy, Options with { Support = SupportKind.PolytopeRows, Gamma = 20 });
        Assert.IsTrue(result.AllFixed, string.Join("; ", result.Inputs.Select(i => i.Message)));
        Assert.IsTrue(result.Network.Patches.All(p => p.Support.Pattern is null && p.Support.Rows.Count >= net.HiddenCount));
        int outside = 0;
        foreach (var x in TinyNetworks.RandomPoints(2000, 29))
        {
            if (result.Network.InAnySupport(x)) continue;
            outside++;
            CollectionAssert.AreEqual(net.Evaluate(x), result.Network.Evaluate(x));
        }
        Assert.IsTrue(outside > 100, $"{outside} points outside");
        using var session = new InferenceSession(RepairedOnnxExporter.ToBytes(result.Network));
        var ort = OnnxRuntimeFloat32Evaluator.Run(session, net.InputName, 2, buggy.Select(b => b.Input).ToList());
        for (int k = 0; k < buggy.Count; k++) Assert.IsTrue(buggy[k].Spec.IsMetInFloat32(ort[k]), $"ORT row {k}");
    }

    [TestMethod]
    public void Soundness_PatchHoldsOnTheWholeRegionNotOnlyAtThePoint()
    {
        var net = TinyNetworks.TwoFourThree();
        var buggy = Buggy(net, 1, 3, _ => 2);
        var result = Repairer.Repair(net, buggy, Options);
        Assert.AreEqual(1, result.Patches.Count);
        var region = result.Network.Patches[0].Region;
        int inside = 0;
        foreach (var x in TinyNetworks.RandomPoints(4000, 11))
        {
            if (!region.Contains(x)) continue;
            inside++;
            Assert.AreEqual(2, TinyNetworks.ArgMax(result.Network.Evaluate(x)), $"point ({x[0]}, {x[1]}) of the region");
        }
        Assert.IsTrue(inside > 20, $"sample reached the region {inside} times");
    }

    [TestMethod]
    public void Locality_OutputsOutsideEverySupportAreBitIdentical_InCoreAndOnnxRuntime()
    {
        var net = TinyNetworks.Deep();
        var buggy = Buggy(net, 4, 5, x => x[0] > 0 ? 0 : 1);
        var result = Repairer.Repair(net, buggy, Options with { Gamma = 20 });
        Assert.IsTrue(result.AllFixed);
        var points = TinyNetworks.RandomPoints(3000, 17).ToList();
        var outside = points.Where(x => !result.Network.InAnySupport(x)).ToList();
        Assert.IsTrue(outside.Count > 100, $"{outside.Count} points outside");
        Assert.IsTrue(outside.Count < points.Count, "some points must be inside a support");
        foreach (var x in outside)
        {
            var a = net.Evaluate(x);
            var b = result.Network.Evaluate(x);
            for (int o = 0; o < a.Length; o++) Assert.AreEqual(BitConverter.DoubleToInt64Bits(a[o]), BitConverter.DoubleToInt64Bits(b[o]));
        }
        using var original = new InferenceSession(RepairedOnnxExporter.ToBytes(new RepairedNetwork(net, TinyNetworks.Box, [])));
        using var repaired = new InferenceSession(RepairedOnnxExporter.ToBytes(result.Network));
        var ya = OnnxRuntimeFloat32Evaluator.Run(original, net.InputName, 2, outside);
        var yb = OnnxRuntimeFloat32Evaluator.Run(repaired, net.InputName, 2, outside);
        for (int k = 0; k < outside.Count; k++)
            for (int o = 0; o < ya[k].Length; o++)
                Assert.AreEqual(BitConverter.SingleToInt32Bits((float)ya[k][o]), BitConverter.SingleToInt32Bits((float)yb[k][o]), $"ORT output differs at a point outside every support");
    }

    /// <summary>
    /// Fast mode gives constant patches (the exporter's single product G D'); minimal mode gives affine ones (the
    /// general Relu form of method.md §5). Both must compute the Core evaluator's function.
    /// </summary>
    /// With 40 buggy points there are enough patches (P >= 3) for the suffix max's second, dilated pool.
    [TestMethod]
    [DataRow(PatchMode.Fast, 6)]
    [DataRow(PatchMode.Minimal, 6)]
    [DataRow(PatchMode.Fast, 40)]
    public void Export_OnnxRuntimeMatchesCoreEvaluator(PatchMode mode, int count)
    {
        var net = TinyNetworks.Deep();
        var buggy = Buggy(net, count, 9, x => x[1] > 0.1 ? 0 : 1);
        var result = Repairer.Repair(net, buggy, Options with { Mode = mode });
        Assert.IsTrue(result.Network.Patches.Count >= (count > 6 ? 3 : 1), $"{result.Network.Patches.Count} patches");
        Assert.AreEqual(mode == PatchMode.Minimal, result.Network.Patches.Any(p => p.Difference.C is not null), "the export path under test");
        var points = TinyNetworks.RandomPoints(2000, 23).Concat(buggy.Select(b => b.Input)).ToList();
        using var session = new InferenceSession(RepairedOnnxExporter.ToBytes(result.Network));
        var ort = OnnxRuntimeFloat32Evaluator.Run(session, net.InputName, 2, points);
        double worst = 0;
        for (int k = 0; k < points.Count; k++)
        {
            var y = result.Network.Evaluate(points[k]);
            for (int o = 0; o < y.Length; o++) worst = Math.Max(worst, Math.Abs(y[o] - ort[k][o]));
        }
        Assert.IsTrue(worst <= 1e-4, $"max |ORT - Core| = {worst}");
    }

    [TestMethod]
    public void Completeness_ConflictingPointsInOneRegionAreBothRepairedAfterASplit()
    {
        var net = TinyNetworks.TwoFourThree();
        // Two points of the same region (x1, x2 > 0, x1 + x2 < 0.5, x1 - x2 > -0.2) asking for different labels.
        var a = new[] { 0.1, 0.1 };
        var b = new[] { 0.3, 0.05 };
        Assert.AreEqual(net.Pattern(a), net.Pattern(b), "the two points must share a region");
        var buggy = new List<BuggyInput>
        {
            new(a, new ClassificationSpecification(0, 0.01), "a"),
            new(b, new ClassificationSpecification(2, 0.01), "b"),
        };
        var result = Repairer.Repair(net, buggy, Options);
        Assert.IsTrue(result.AllFixed, string.Join("; ", result.Inputs.Select(i => i.Message)));
        Assert.AreEqual(0, TinyNetworks.ArgMax(result.Network.Evaluate(a)));
        Assert.AreEqual(2, TinyNetworks.ArgMax(result.Network.Evaluate(b)));
        Assert.IsTrue(result.Patches.All(p => p.SplitRows == 1), "each half carries the split hyperplane");
        Assert.IsTrue(result.Patches.All(p => p.Verified));
    }

    [TestMethod]
    public void Completeness_OneInputWithTwoLabelsGetsThePerInputError()
    {
        var net = TinyNetworks.TwoFourThree();
        var x = new[] { 0.1, 0.1 };
        var other = new[] { -0.6, 0.7 };
        var buggy = new List<BuggyInput>
        {
            new(x, new ClassificationSpecification(0, 0.01), "first"),
            new((double[])x.Clone(), new ClassificationSpecification(1, 0.01), "second"),
            new(other, new ClassificationSpecification(2, 0.01), "third"),
        };
        var result = Repairer.Repair(net, buggy, Options);
        Assert.AreEqual(ErrorCodes.ConflictingRequirements, result.Inputs[0].ErrorCode);
        Assert.AreEqual(ErrorCodes.ConflictingRequirements, result.Inputs[1].ErrorCode);
        StringAssert.Contains(result.Inputs[0].Message!, "second");
        Assert.IsTrue(result.Inputs[2].Fixed, "the other input is still repaired");
        Assert.IsFalse(result.AllFixed);
    }

    [TestMethod]
    public void Soundness_OverlappingSupportsOfNeighbouringRegionsAreSeparatedByRaisingGamma()
    {
        var net = TinyNetworks.TwoFourThree();
        // Two points on either side of the neuron x2 = 0, 0.002 apart: at gamma = 1 each support reaches the other point.
        var a = new[] { -0.5, 0.001 };
        var b = new[] { -0.5, -0.001 };
        Assert.AreNotEqual(net.Pattern(a), net.Pattern(b));
        var buggy = new List<BuggyInput>
        {
            new(a, new ClassificationSpecification(0, 0.05), "a"),
            new(b, new ClassificationSpecification(1, 0.05), "b"),
        };
        var result = Repairer.Repair(net, buggy, Options);
        Assert.IsTrue(result.AllFixed, string.Join("; ", result.Inputs.Select(i => i.Message)));
        Assert.AreEqual(0, TinyNetworks.ArgMax(result.Network.Evaluate(a)));
        Assert.AreEqual(1, TinyNetworks.ArgMax(result.Network.Evaluate(b)));
        Assert.IsTrue(result.Patches.Any(p => p.Gamma > 1), $"gammas: {string.Join(", ", result.Patches.Select(p => p.Gamma))}");
    }

    [TestMethod]
    public void Verification_EveryPatchPassesAndACorruptedPatchFails()
    {
        var net = TinyNetworks.Deep();
        var buggy = Buggy(net, 5, 31, x => x[0] + x[1] > 0 ? 0 : 1);
        var result = Repairer.Repair(net, buggy, Options);
        Assert.IsTrue(result.Patches.Count > 0);
        Assert.IsTrue(result.Patches.All(p => p.Verified && p.WorstSlack >= -PatchVerifier.Tolerance));
        var gp = result.Network.Patches[0];
        var spec = buggy[result.Patches[0].Inputs[0]].Spec.ToLinear(2);
        var corrupted = new AffinePatch(2, gp.Patch.C, gp.Patch.D.Select(v => v * 0.5).ToArray());
        foreach (var form in new[] { PatchVerifier.CheckFormulation.Layered, PatchVerifier.CheckFormulation.Polytope, PatchVerifier.CheckFormulation.Certificate })
        {
            var ok = PatchVerifier.Check(gp.Region, gp.Patch, spec, form);
            Assert.IsTrue(ok.Verified, $"{form}");
            var bad = PatchVerifier.Check(gp.Region, corrupted, spec, form);
            Assert.IsFalse(bad.Verified, $"{form}: corrupted patch slack {bad.WorstSlack}");
        }
    }

    [TestMethod]
    public void Minimality_MinimalModeNormEqualsBruteForceVertexLp()
    {
        foreach (var (net, seed) in new[] { (TinyNetworks.TwoFourThree(), 41), (TinyNetworks.Deep(), 43) })
        {
            var buggy = Buggy(net, 3, seed, x => x[0] > x[1] ? 0 : 1);
            var result = Repairer.Repair(net, buggy, Options with { Mode = PatchMode.Minimal });
            Assert.IsTrue(result.AllFixed);
            for (int p = 0; p < result.Patches.Count; p++)
            {
                var gp = result.Network.Patches[p];
                var spec = buggy[result.Patches[p].Inputs[0]].Spec.ToLinear(net.OutputSize);
                double brute = BruteForceMinimalNorm(gp.Region, spec);
                Assert.AreEqual(brute, gp.Norm, 1e-6, $"patch {p}");
                Assert.IsTrue(result.Patches[p].Verified);
            }
        }
    }

    [TestMethod]
    public void Minimality_FastModeIsNeverSmallerThanMinimal()
    {
        var net = TinyNetworks.TwoFourThree();
        var buggy = Buggy(net, 3, 47, _ => 1);
        var fast = Repairer.Repair(net, buggy, Options);
        var minimal = Repairer.Repair(net, buggy, Options with { Mode = PatchMode.Minimal });
        Assert.AreEqual(fast.Patches.Count, minimal.Patches.Count);
        for (int p = 0; p < fast.Patches.Count; p++) Assert.IsTrue(minimal.Patches[p].Norm <= fast.Patches[p].Norm + 1e-7);
    }

    /// <summary>
    /// Minimal norm by brute force: the constraints are linear in x for fixed (C, d), so they hold on the polygon
    /// iff they hold at its vertices. Enumerate the vertices (pairwise line intersections that meet every row) and
    /// solve min H over (C, d, H) with the constraints written at each vertex.
    /// </summary>
    private static double BruteForceMinimalNorm(LinearRegion region, LinearSpecification spec)
    {
        var rows = region.PolytopeRows().ToList();
        for (int i = 0; i < 2; i++)
        {
            var up = new double[2]; up[i] = 1; rows.Add(new HalfSpace(up, region.Domain.Upper[i]));
            var dn = new double[2]; dn[i] = -1; rows.Add(new HalfSpace(dn, -region.Domain.Lower[i]));
        }
        var vertices = new List<double[]>();
        for (int a = 0; a < rows.Count; a++)
            for (int b = a + 1; b < rows.Count; b++)
            {
                double det = rows[a].A[0] * rows[b].A[1] - rows[a].A[1] * rows[b].A[0];
                if (Math.Abs(det) < 1e-12) continue;
                var v = new[] { (rows[a].B * rows[b].A[1] - rows[a].A[1] * rows[b].B) / det, (rows[a].A[0] * rows[b].B - rows[a].B * rows[b].A[0]) / det };
                if (rows.All(r => r.Slack(v) >= -1e-9)) vertices.Add(v);
            }
        Assert.IsTrue(vertices.Count >= 3, "a 2-D region has at least three vertices");
        int m = spec.Outputs;
        var f = region.OutputMatrix;
        var e = region.OutputOffset;
        using var s = Solver.CreateSolver("GLOP");
        var c = new Variable[m, 2];
        var d = new Variable[m];
        for (int i = 0; i < m; i++) { d[i] = s.MakeNumVar(double.NegativeInfinity, double.PositiveInfinity, ""); for (int j = 0; j < 2; j++) c[i, j] = s.MakeNumVar(double.NegativeInfinity, double.PositiveInfinity, ""); }
        var h = s.MakeNumVar(0, double.PositiveInfinity, "");
        foreach (var v in vertices)
        {
            for (int i = 0; i < m; i++)
            {
                var up = s.MakeConstraint(double.NegativeInfinity, 0, ""); // C_i v + d_i - H <= 0
                var dn = s.MakeConstraint(double.NegativeInfinity, 0, ""); // -C_i v - d_i - H <= 0
                for (int j = 0; j < 2; j++) { up.SetCoefficient(c[i, j], v[j]); dn.SetCoefficient(c[i, j], -v[j]); }
                up.SetCoefficient(d[i], 1); dn.SetCoefficient(d[i], -1);
                up.SetCoefficient(h, -1); dn.SetCoefficient(h, -1);
            }
            for (int r = 0; r < spec.Rows; r++)
            {
                double fy = 0;
                for (int i = 0; i < m; i++) fy += spec.P[r, i] * (e[i] + f[i * 2] * v[0] + f[i * 2 + 1] * v[1]);
                var row = s.MakeConstraint(spec.Lower[r] - fy, spec.Upper[r] - fy, "");
                for (int i = 0; i < m; i++)
                {
                    if (spec.P[r, i] == 0) continue;
                    row.SetCoefficient(d[i], spec.P[r, i]);
                    for (int j = 0; j < 2; j++) row.SetCoefficient(c[i, j], spec.P[r, i] * v[j]);
                }
            }
        }
        s.Objective().SetCoefficient(h, 1);
        s.Objective().SetMinimization();
        Assert.AreEqual(Solver.ResultStatus.OPTIMAL, s.Solve());
        return h.SolutionValue();
    }
}
