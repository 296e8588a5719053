using Reassure.Formats.Onnx;
using Reassure.Formats.VnnLib;
using Reassure.Networks;
using Reassure.Verification;

namespace Reassure.Tests.Verification;

/// <summary>The root counterexample search: projected sign-gradient descent from the relaxation's minimiser (issue 21).</summary>
[TestClass]
public sealed class AttackTests
{
    private static Network MnistFc() => OnnxImporter.Load(TestData.File("vnncomp", "mnistfc", "mnist-net_256x2.onnx")).Network;

    [TestMethod]
    public void Gradient_MatchesCentralDifferences()
    {
        var net = MnistFc();
        var prop = VnnLibReader.Read(TestData.File("vnncomp", "mnistfc", "prop_0_0.05.vnnlib"));
        var box = prop.Cases[0].Box;
        var rng = new Random(3);
        var c = new double[10];
        for (int o = 0; o < c.Length; o++) c[o] = rng.NextDouble() - 0.5;
        for (int trial = 0; trial < 3; trial++)
        {
            var x = box.Sample(rng);
            var g = SignGradientDescent.Gradient(net, x, c);
            double Value(double[] p) { var y = net.Evaluate(p); double s = 0; for (int o = 0; o < c.Length; o++) s += c[o] * y[o]; return s; }
            const double h = 1e-7; // the network is piecewise linear: a step this small stays on x's region
            double worst = 0;
            for (int i = 0; i < x.Length; i += 7)
            {
                var p = (double[])x.Clone(); p[i] += h;
                var q = (double[])x.Clone(); q[i] -= h;
                worst = Math.Max(worst, Math.Abs((Value(p) - Value(q)) / (2 * h) - g[i]));
            }
            Assert.IsLessThan(1e-5, worst, $"largest difference between the backward pass and central differences: {worst}");
        }
    }

    [TestMethod]
    public void MnistFc_Prop0_005_ViolatedByTheDescentFromTheAlphaCrownMinimiser()
    {
        // VNN-COMP 2021: violated, and the competition's PGD did not find a counterexample. No MILP and no random
        // restarts here: only the root bounds and the descent from each conjunction's alpha-CROWN minimiser.
        var net = MnistFc();
        var prop = VnnLibReader.Read(TestData.File("vnncomp", "mnistfc", "prop_0_0.05.vnnlib"));
        var options = new VerificationOptions { MaxTime = TimeSpan.FromSeconds(60), AttackRestarts = 0, MaxInputsForSplitting = int.MaxValue, MaxDegreeOfParallelism = 1 };
        var r = PropertyVerifier.Verify(net, prop, options);
        Assert.AreEqual(VerificationStatus.Violated, r.Status, r.Detail);
        Assert.IsNotNull(r.Counterexample);
        Assert.IsTrue(prop.Cases[0].Box.Contains(r.Counterexample), "the counterexample lies in the input box");
        Assert.IsTrue(prop.Cases[0].IsUnsafe(net.Evaluate(r.Counterexample)), "the plain evaluator puts it in the unsafe set");
        Assert.AreEqual(1, r.Boxes, "found at the root, before any split");
        // Without the descent from the minimiser, the same search (bounds, short local descents, bisection) finds none in 3 s.
        var without = PropertyVerifier.Verify(net, prop, options with { MinimizerAttackSteps = 0, MaxTime = TimeSpan.FromSeconds(3) });
        Assert.AreNotEqual(VerificationStatus.Violated, without.Status, "the descent from the minimiser is what finds it");
    }

    [TestMethod]
    public void MnistFc_Prop0_005_ViolatedByTheRegionWalkWhenTheDescentIsTooShort()
    {
        // One descent step only: the exact region walk from its closest point has to find the counterexample.
        var net = MnistFc();
        var prop = VnnLibReader.Read(TestData.File("vnncomp", "mnistfc", "prop_0_0.05.vnnlib"));
        var options = new VerificationOptions { MaxTime = TimeSpan.FromSeconds(60), AttackRestarts = 0, MaxInputsForSplitting = int.MaxValue, MaxDegreeOfParallelism = 1, MinimizerAttackSteps = 1 };
        var r = PropertyVerifier.Verify(net, prop, options);
        Assert.AreEqual(VerificationStatus.Violated, r.Status, r.Detail);
        Assert.IsTrue(prop.Cases[0].Box.Contains(r.Counterexample!) && prop.Cases[0].IsUnsafe(net.Evaluate(r.Counterexample!)), "confirmed by the evaluator");
        Assert.AreEqual(1, r.Boxes, "found at the root");
        Assert.IsGreaterThanOrEqualTo(1, r.LinearPrograms, "by the region walk's LPs");
        var without = PropertyVerifier.Verify(net, prop, options with { RegionAscentLps = 0, MaxTime = TimeSpan.FromSeconds(3) });
        Assert.AreNotEqual(VerificationStatus.Violated, without.Status, "one descent step alone does not find it");
    }

    [TestMethod]
    public void AcasXu_N2_9_Prop8_ViolatedAtTheRootByAWalkFromTheRestarts()
    {
        // Violated on a small share of its box (VNN-COMP 2021); the walks from the restarts' closest points find it
        // before any split, without them the input-split search needs more boxes.
        var net = OnnxImporter.Load(TestData.File("vnncomp", "acasxu", "ACASXU_run2a_2_9_batch_2000.onnx")).Network;
        var prop = VnnLibReader.Read(TestData.File("vnncomp", "acasxu", "prop_8.vnnlib"));
        var options = new VerificationOptions { MaxTime = TimeSpan.FromSeconds(60), MaxDegreeOfParallelism = 1 };
        var r = PropertyVerifier.Verify(net, prop, options);
        Assert.AreEqual(VerificationStatus.Violated, r.Status, r.Detail);
        Assert.IsTrue(prop.Cases.Any(c => c.Box.Contains(r.Counterexample!) && c.IsUnsafe(net.Evaluate(r.Counterexample!))), "confirmed by the evaluator");
        Assert.AreEqual(1, r.Boxes, "found at the root");
        var without = PropertyVerifier.Verify(net, prop, options with { RestartWalks = 0 });
        Assert.IsGreaterThan(1, without.Boxes, "without the walks the root search misses it");
    }

    [TestMethod]
    public void Descent_FindsNothingWhereThePropertyHolds()
    {
        // prop_0_0.03 holds (VNN-COMP 2021): every start and every step must end with no point.
        var net = MnistFc();
        var prop = VnnLibReader.Read(TestData.File("vnncomp", "mnistfc", "prop_0_0.03.vnnlib"));
        var cs = prop.Cases[0];
        var bounds = LinearBounds.Compute(net, cs.Box);
        int asked = 0;
        foreach (var conj in cs.Unsafe)
        {
            var start = AlphaCrown.Optimize(net, cs.Box, bounds, conj.Constraints, 20, double.PositiveInfinity).Minimizer;
            var x = SignGradientDescent.Run(net, p => net.Evaluate(p), cs.Box, conj, start, 100, 0.5, 0.955, (p, y) => { asked++; return cs.IsUnsafe(y); });
            Assert.IsNull(x.Counterexample, "a property that holds has no counterexample");
            Assert.AreEqual(conj.Constraints.Max(r => -r.Slack(net.Evaluate(x.Best))), x.BestViolation, 1e-12, "the closest point's violation is its own");
        }
        Assert.IsGreaterThan(cs.Unsafe.Count, asked, "every visited point was put to the check");
    }

    [TestMethod]
    public void RegionAscent_FromTheMinimiser_FindsOnlyConfirmedPoints_AndNeverLosesGround()
    {
        // prop_0_0.05 is violated (VNN-COMP 2021), prop_0_0.03 holds: the walk must find a point strictly inside the
        // unsafe set of some conjunction of the first and none of the second; its best margin is never below the start's.
        var net = MnistFc();
        foreach (var (name, violated) in new[] { ("prop_0_0.05.vnnlib", true), ("prop_0_0.03.vnnlib", false) })
        {
            var cs = VnnLibReader.Read(TestData.File("vnncomp", "mnistfc", name)).Cases[0];
            var bounds = LinearBounds.Compute(net, cs.Box);
            int found = 0;
            foreach (var conj in cs.Unsafe)
            {
                var start = AlphaCrown.Optimize(net, cs.Box, bounds, conj.Constraints, 20, double.PositiveInfinity).Minimizer;
                double startMargin = conj.Constraints.Min(r => r.Slack(net.Evaluate(start)));
                var a = RegionAscent.Run(net, cs.Box, bounds, conj, start, 20);
                Assert.IsGreaterThanOrEqualTo(startMargin - 1e-9, a.Margin, $"{name}: the walk starts in the start's region, so its optimum is at least the start's margin");
                if (a.Candidate is null) continue;
                found++;
                Assert.IsTrue(cs.Box.Contains(a.Candidate), "in the box");
                double margin = conj.Constraints.Min(r => r.Slack(net.Evaluate(a.Candidate)));
                Assert.AreEqual(a.Margin, margin, 1e-9, $"{name}: the LP optimum is the network's own margin there (exact on the region)");
                Assert.IsGreaterThan(0, margin, "strictly inside the unsafe set");
            }
            Assert.AreEqual(violated, found > 0, name);
        }
    }
}
