using Reassure.Formats.Onnx;
using Reassure.Formats.VnnLib;
using Reassure.Networks;
using Reassure.Specifications;
using Reassure.Verification;

namespace Reassure.Tests.Verification;

/// <summary>alpha-CROWN with a Lagrangian over a conjunction, and the MILP check (issue 21).</summary>
[TestClass]
public sealed class BoundSearchTests
{
    private static readonly OutputConstraint[] TwoRows = [new([1, -1, 0], 0.3), new([0, 1, -1], -0.2)];

    [TestMethod]
    public void AlphaCrown_IsSoundOnSamples_AndImprovesOnItsStart()
    {
        var net = RegionEnumerationTests.RandomNet(3, [12, 12, 12], 3, seed: 5);
        var box = InputBox.Uniform(3, -0.5, 0.5);
        var b = LinearBounds.Compute(net, box);
        var first = AlphaCrown.Optimize(net, box, b, TwoRows, 1, double.PositiveInfinity);
        var opt = AlphaCrown.Optimize(net, box, b, TwoRows, 50, double.PositiveInfinity);
        Assert.IsGreaterThan(first.Bound, opt.Bound, "50 steps beat the starting point (CROWN slopes, equal weights)");
        double min = double.PositiveInfinity;
        foreach (var x in TinyNetworks.RandomPoints(20000, 9, box))
        {
            var y = net.Evaluate(x);
            min = Math.Min(min, TwoRows.Max(r => -r.Slack(y)));
        }
        Assert.IsLessThanOrEqualTo(min + 1e-9, opt.Bound, $"bound {opt.Bound} must not exceed the sampled minimum {min}");
        Assert.IsTrue(box.Contains(opt.Minimizer));
    }

    [TestMethod]
    [DataRow(1)]
    [DataRow(2)]
    public void LinearBounds_UnstableOnly_IsSoundAndAsTightAsTheFullPassBelowAParent(int seed)
    {
        var net = RegionEnumerationTests.RandomNet(3, [16, 16, 16], 2, seed);
        var parentBox = InputBox.Uniform(3, -0.5, 0.5);
        var parent = LinearBounds.Compute(net, parentBox);
        var box = new InputBox([-0.5, -0.1, -0.3], [0, 0.3, -0.05]);
        var full = LinearBounds.Compute(net, box, parent);
        var part = LinearBounds.Compute(net, box, parent, unstableOnly: true);
        Assert.IsGreaterThan(0, full.Unstable);
        Assert.AreEqual(full.Unstable, part.Unstable, "the same neurons stay unstable");
        for (int j = 0; j < full.Lower.Length; j++)
        {
            if (full.Lower[j] < 0 && full.Upper[j] > 0)
            {
                Assert.AreEqual(full.Lower[j], part.Lower[j], 1e-9 * (1 + Math.Abs(full.Lower[j])), $"lower of unstable neuron {j}");
                Assert.AreEqual(full.Upper[j], part.Upper[j], 1e-9 * (1 + Math.Abs(full.Upper[j])), $"upper of unstable neuron {j}");
            }
            else Assert.AreEqual(full.Lower[j] >= 0, part.Lower[j] >= 0, $"sign of stable neuron {j}");
        }
        double[] c = [1, -1];
        Assert.AreEqual(LinearBounds.OutputLowerBound(net, box, full, c).Lower, LinearBounds.OutputLowerBound(net, box, part, c).Lower, 1e-9);
        foreach (var x in TinyNetworks.RandomPoints(3000, seed, box))
        {
            var z = net.PreActivations(x);
            for (int j = 0; j < z.Length; j++)
                Assert.IsTrue(part.Lower[j] - 1e-9 <= z[j] && z[j] <= part.Upper[j] + 1e-9, $"neuron {j}: {z[j]} outside [{part.Lower[j]}, {part.Upper[j]}]");
        }
    }

    [TestMethod]
    public void AlphaCrown_WarmStartedFromTheParent_IsSoundAndStartsAboveCrown()
    {
        var net = OnnxImporter.Load(TestData.File("vnncomp", "acasxu", "ACASXU_run2a_1_1_batch_2000.onnx")).Network;
        var cs = VnnLibReader.Read(TestData.File("vnncomp", "acasxu", "prop_2.vnnlib")).Cases[0];
        var c = cs.Box.Center();
        var parentBox = new InputBox(c.Select((v, i) => v - (v - cs.Box.Lower[i]) / 16).ToArray(), c.Select((v, i) => v + (cs.Box.Upper[i] - v) / 16).ToArray());
        var parentBounds = LinearBounds.Compute(net, parentBox);
        var parent = AlphaCrown.Optimize(net, parentBox, parentBounds, cs.Unsafe[0].Constraints, 30, double.PositiveInfinity);
        var upper = (double[])parentBox.Upper.Clone();
        upper[0] = 0.5 * (parentBox.Lower[0] + parentBox.Upper[0]);
        var box = new InputBox(parentBox.Lower, upper);
        var b = LinearBounds.Compute(net, box, parentBounds, unstableOnly: true);
        var cold = AlphaCrown.Optimize(net, box, b, cs.Unsafe[0].Constraints, 1, double.PositiveInfinity);
        var warm = AlphaCrown.Optimize(net, box, b, cs.Unsafe[0].Constraints, 1, double.PositiveInfinity, parent.Final);
        Assert.IsGreaterThan(cold.Bound, warm.Bound, $"the parent's slopes and weights ({warm.Bound}) beat CROWN's start ({cold.Bound}) on the child");
        var more = AlphaCrown.Optimize(net, box, b, cs.Unsafe[0].Constraints, 20, double.PositiveInfinity, parent.Final);
        Assert.IsGreaterThanOrEqualTo(warm.Bound, more.Bound);
        double min = double.PositiveInfinity;
        foreach (var x in TinyNetworks.RandomPoints(5000, 4, box))
        {
            var y = net.Evaluate(x);
            min = Math.Min(min, cs.Unsafe[0].Constraints.Max(r => -r.Slack(y)));
        }
        Assert.IsLessThanOrEqualTo(min + 1e-9, more.Bound, $"bound {more.Bound} must not exceed the sampled minimum {min}");
    }

    [TestMethod]
    public void AlphaCrown_OnAnAcasSubBox_TightensTheBound()
    {
        var net = OnnxImporter.Load(TestData.File("vnncomp", "acasxu", "ACASXU_run2a_1_1_batch_2000.onnx")).Network;
        var cs = VnnLibReader.Read(TestData.File("vnncomp", "acasxu", "prop_2.vnnlib")).Cases[0];
        var c = cs.Box.Center();
        var box = new InputBox(c.Select((v, i) => v - (v - cs.Box.Lower[i]) / 16).ToArray(), c.Select((v, i) => v + (cs.Box.Upper[i] - v) / 16).ToArray());
        var b = LinearBounds.Compute(net, box);
        double bestRow = cs.Unsafe[0].Constraints.Max(r => LinearBounds.OutputLowerBound(net, box, b, r.A).Lower - r.B);
        var opt = AlphaCrown.Optimize(net, box, b, cs.Unsafe[0].Constraints, 20, double.PositiveInfinity);
        Assert.IsGreaterThan(bestRow, opt.Bound, $"combined rows with optimised slopes ({opt.Bound}) beat the best single CROWN row ({bestRow})");
        double min = double.PositiveInfinity;
        foreach (var x in TinyNetworks.RandomPoints(5000, 3, box))
        {
            var y = net.Evaluate(x);
            min = Math.Min(min, cs.Unsafe[0].Constraints.Max(r => -r.Slack(y)));
        }
        Assert.IsLessThanOrEqualTo(min + 1e-9, opt.Bound);
    }

    [TestMethod]
    [DataRow(1)]
    [DataRow(2)]
    [DataRow(3)]
    public void MilpCheck_FindsPointsBelowTheSampledMinimum_AndProvesBelowTheBound(int seed)
    {
        Assert.IsTrue(MilpCheck.Available);
        var net = RegionEnumerationTests.RandomNet(4, [10, 10], 2, seed);
        var box = InputBox.Uniform(4, -1, 1);
        var b = LinearBounds.Compute(net, box);
        double[] a = [1, -1];
        double min = TinyNetworks.RandomPoints(5000, seed, box).Min(x => { var y = net.Evaluate(x); return y[0] - y[1]; });
        // reachable: a sample meets it
        var hit = MilpCheck.Check(net, box, b, new OutputConjunction([new OutputConstraint(a, min + 1e-3)]), 0, TimeSpan.FromSeconds(20));
        Assert.IsFalse(hit.Infeasible);
        Assert.IsNotNull(hit.Candidate);
        var yc = net.Evaluate(hit.Candidate);
        Assert.IsLessThanOrEqualTo(min + 1e-3 + 1e-6, yc[0] - yc[1]);
        // unreachable: below the sound linear lower bound
        double lb = LinearBounds.OutputLowerBound(net, box, b, a).Lower;
        var none = MilpCheck.Check(net, box, b, new OutputConjunction([new OutputConstraint(a, lb - 0.1)]), 0, TimeSpan.FromSeconds(20));
        Assert.IsTrue(none.Infeasible, none.Status);
    }

    [TestMethod]
    public void MnistFc_Prop0_003_HoldsThroughTheMilp()
    {
        var net = OnnxImporter.Load(TestData.File("vnncomp", "mnistfc", "mnist-net_256x2.onnx")).Network;
        var prop = VnnLibReader.Read(TestData.File("vnncomp", "mnistfc", "prop_0_0.03.vnnlib"));
        var r = PropertyVerifier.Verify(net, prop, new VerificationOptions { MaxTime = TimeSpan.FromSeconds(120) });
        Assert.AreEqual(VerificationStatus.Holds, r.Status, r.Detail);
        Assert.IsGreaterThanOrEqualTo(1, r.LinearPrograms, "at least one conjunction needed the MILP");
        var bare = PropertyVerifier.Verify(net, prop, new VerificationOptions { MaxTime = TimeSpan.FromSeconds(2), MaxInputsForSplitting = int.MaxValue });
        Assert.AreEqual(VerificationStatus.Unknown, bare.Status, "without the MILP the bounds alone do not decide it");
    }
}
