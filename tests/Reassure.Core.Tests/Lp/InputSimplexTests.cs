using Reassure.Formats.Mnist;
using Reassure.Formats.Onnx;
using Reassure.Lp;
using Reassure.Networks;
using Reassure.Patching;
using Reassure.Regions;
using Reassure.Repair;
using Reassure.Specifications;

namespace Reassure.Tests.Lp;

/// <summary>
/// The input-space dual simplex (InputSimplex) by hand on a two-input LP, and through RegionLp against GLOP on real MNIST
/// regions and on a cut tiny region: same optima, certificates that close, early stops that carry multipliers, and the
/// same answer on every run.
/// </summary>
[TestClass]
public sealed class InputSimplexTests
{
    /// <summary>
    /// max x1 + 2 x2 over [0, 1]^2 with s1 = 1.5 - x1 - x2 >= 0 and s2 = 0.25 + x1 - x2 >= 0. Vertices in the box:
    /// (0, 0) 0, (1, 0) 1, (1, 0.5) 2, (0.625, 0.875) 2.375, (0, 0.25) 0.5: the optimum is 2.375 where both rows are
    /// tight. Multipliers: (1, 2) = t1 (-1, -1) + t2 (1, -1) gives t1 = -1.5, t2 = -0.5 (both &lt;= 0, rows at their bound 0),
    /// and 2.375 = -(t1 1.5 + t2 0.25).
    /// </summary>
    [TestMethod]
    public void TwoInputs_OptimumAndMultipliersByHand()
    {
        var simplex = Hand();
        Assert.AreEqual(InputSimplex.Status.Optimal, simplex.Maximize([1.0, 2.0], double.NegativeInfinity, null));
        Assert.AreEqual(0.625, simplex.X[0], 1e-12);
        Assert.AreEqual(0.875, simplex.X[1], 1e-12);
        var t = new double[2];
        simplex.RowReducedCosts(t);
        Assert.AreEqual(-1.5, t[0], 1e-12);
        Assert.AreEqual(-0.5, t[1], 1e-12);

        // Another objective on the same instance (warm start from that basis): max x1 is 1 on the edge x1 = 1.
        Assert.AreEqual(InputSimplex.Status.Optimal, simplex.Maximize([1.0, 0.0], double.NegativeInfinity, null));
        Assert.AreEqual(1.0, simplex.X[0], 1e-12);
        // max -x1 - x2 is 0 at the origin.
        Assert.AreEqual(InputSimplex.Status.Optimal, simplex.Maximize([-1.0, -1.0], double.NegativeInfinity, null));
        Assert.AreEqual(0.0, simplex.X[0], 1e-12);
        Assert.AreEqual(0.0, simplex.X[1], 1e-12);
    }

    /// <summary>
    /// The early stop: the start (both inputs at 1, objective 3) is already an upper bound, so a limit of 3.1 is met at
    /// once when the caller confirms; a caller that never confirms gets the optimum; a limit below the optimum cannot be met.
    /// </summary>
    [TestMethod]
    public void TwoInputs_StopsBelowALimitOnlyWhenConfirmed()
    {
        int asked = 0;
        Assert.AreEqual(InputSimplex.Status.BelowLimit, Hand().Maximize([1.0, 2.0], 3.1, () => { asked++; return true; }));
        Assert.AreEqual(1, asked);
        var refused = Hand();
        Assert.AreEqual(InputSimplex.Status.Optimal, refused.Maximize([1.0, 2.0], 3.1, () => false));
        Assert.AreEqual(0.875, refused.X[1], 1e-12);
        Assert.AreEqual(InputSimplex.Status.Optimal, Hand().Maximize([1.0, 2.0], 2.0, () => true));
    }

    /// <summary>
    /// 300 seeded random LPs with 1-8 inputs and 0-14 rows, feasible by construction (every row holds at a random point of
    /// the box, some with zero slack there), some inputs fixed (lo = hi), some rows repeated and some objective entries 0
    /// (degenerate cases): every optimum equals GLOP's within 1e-9, the maximiser is feasible within 1e-9, and the
    /// multipliers close by weak duality in the LP's own terms, max c . x &lt;= -sum_i t_i b_i + sum_j max(d_j lo_j, d_j hi_j)
    /// with d = c - sum_i t_i a_i and t &lt;= 0, within 1e-9 of the optimum.
    /// </summary>
    [TestMethod]
    public void RandomSmallLps_OptimaEqualGlops_MultipliersClose()
    {
        var rng = new Random(2026);
        int compared = 0, withRows = 0;
        for (int trial = 0; trial < 300; trial++)
        {
            int n = rng.Next(1, 9), m = rng.Next(0, 15);
            var lo = new double[n];
            var hi = new double[n];
            var x0 = new double[n];
            for (int j = 0; j < n; j++)
            {
                lo[j] = rng.NextDouble() * 2 - 1;
                hi[j] = rng.Next(6) == 0 ? lo[j] : lo[j] + rng.NextDouble() * 2;
                x0[j] = lo[j] + rng.NextDouble() * (hi[j] - lo[j]);
            }
            var a = new double[m * n];
            var b = new double[m];
            for (int i = 0; i < m; i++)
            {
                if (i > 0 && rng.Next(8) == 0)
                {
                    Array.Copy(a, (i - 1) * n, a, i * n, n); // a repeated row
                    b[i] = b[i - 1];
                    continue;
                }
                double dot = 0;
                for (int j = 0; j < n; j++) { a[i * n + j] = rng.NextDouble() * 2 - 1; dot += a[i * n + j] * x0[j]; }
                b[i] = -dot + (rng.Next(4) == 0 ? 0 : rng.NextDouble()); // s_i(x0) = a_i . x0 + b_i >= 0
            }
            var c = new double[n];
            for (int j = 0; j < n; j++) c[j] = rng.Next(5) == 0 ? 0 : rng.NextDouble() * 2 - 1;

            using var simplex = new InputSimplex(a, b, lo, hi);
            Assert.AreEqual(InputSimplex.Status.Optimal, simplex.Maximize(c, double.NegativeInfinity, null), $"trial {trial}");
            var x = simplex.X.ToArray();
            double value = 0;
            for (int j = 0; j < n; j++)
            {
                value += c[j] * x[j];
                Assert.IsTrue(x[j] >= lo[j] - 1e-9 && x[j] <= hi[j] + 1e-9, $"trial {trial}: x[{j}] = {x[j]} outside [{lo[j]}, {hi[j]}]");
            }
            for (int i = 0; i < m; i++)
            {
                double si = b[i];
                for (int j = 0; j < n; j++) si += a[i * n + j] * x[j];
                Assert.IsTrue(si >= -1e-9, $"trial {trial}: row {i} = {si}");
            }
            double expected = Glop(a, b, lo, hi, c);
            Assert.AreEqual(expected, value, 1e-9, $"trial {trial} (n {n}, m {m})");

            var t = new double[m];
            simplex.RowReducedCosts(t);
            var d = (double[])c.Clone();
            double bound = 0;
            for (int i = 0; i < m; i++)
            {
                Assert.IsTrue(t[i] <= 1e-9, $"trial {trial}: multiplier {i} = {t[i]}");
                bound -= t[i] * b[i];
                for (int j = 0; j < n; j++) d[j] -= t[i] * a[i * n + j];
            }
            for (int j = 0; j < n; j++) bound += Math.Max(d[j] * lo[j], d[j] * hi[j]);
            Assert.AreEqual(value, bound, 1e-9, $"trial {trial}: weak-duality bound {bound} vs optimum {value}");
            compared++;
            if (m > 0) withRows++;
        }
        Assert.AreEqual(300, compared);
        Assert.IsTrue(withRows > 250);
    }

    /// <summary>max c . x over { A x + b >= 0, lo &lt;= x &lt;= hi } by GLOP with its defaults.</summary>
    private static double Glop(double[] a, double[] b, double[] lo, double[] hi, double[] c)
    {
        int n = lo.Length, m = b.Length;
        using var solver = Google.OrTools.LinearSolver.Solver.CreateSolver("GLOP")!;
        var x = new Google.OrTools.LinearSolver.Variable[n];
        for (int j = 0; j < n; j++) x[j] = solver.MakeNumVar(lo[j], hi[j], "");
        for (int i = 0; i < m; i++)
        {
            var row = solver.MakeConstraint(-b[i], double.PositiveInfinity, "");
            for (int j = 0; j < n; j++) row.SetCoefficient(x[j], a[i * n + j]);
        }
        var objective = solver.Objective();
        for (int j = 0; j < n; j++) objective.SetCoefficient(x[j], c[j]);
        objective.SetMaximization();
        Assert.AreEqual(Google.OrTools.LinearSolver.Solver.ResultStatus.OPTIMAL, solver.Solve());
        return objective.Value();
    }

    private static InputSimplex Hand() =>
        new([-1.0, -1.0, 1.0, -1.0], [1.5, 0.25], [0.0, 0.0], [1.0, 1.0]);

    /// <summary>
    /// Every row of three MNIST regions (test images 15, 217, 247): the simplex's optimum equals GLOP's within 1e-9, with no
    /// fallback; its maximiser lies in the region (pre-activation signs within 1e-7); its multipliers, as a layered
    /// certificate, bound the optimum within <see cref="RegionLp.CertificateSlack"/>.
    /// </summary>
    [TestMethod]
    public void MnistRegions_OptimaEqualGlops_MaximisersInTheRegion_CertificatesClose()
    {
        foreach (var (net, region, spec) in MnistRegions.Value)
        {
            using var glop = new RegionLp(region, null, RegionLpEngine.Glop);
            using var fast = new RegionLp(region);
            var w = new double[net.OutputSize];
            for (int r = 0; r < spec.Rows; r++)
            {
                for (int i = 0; i < w.Length; i++) w[i] = spec.P[r, i];
                double expected = glop.MaximizeOutput(w).Value;
                var got = fast.MaximizeOutput(w);
                Assert.AreEqual(expected, got.Value, 1e-9 * Math.Max(1, Math.Abs(expected)), $"row {r}");
                var z = net.PreActivations(got.X);
                for (int j = 0; j < z.Length; j++)
                    Assert.IsTrue(region.Pattern[j] ? z[j] >= -1e-7 : z[j] <= 1e-7, $"row {r}: neuron {j} z = {z[j]}");
                double bound = fast.Certificate().UpperBound(region, w, [], 0, out double err);
                Assert.IsTrue(bound + err >= got.Value - 1e-9, $"row {r}: certificate {bound} below the value {got.Value}");
                Assert.IsTrue(bound + err <= got.Value + RegionLp.CertificateSlack * Math.Max(1, Math.Abs(got.Value)), $"row {r}: certificate {bound} + {err} vs {got.Value}");
            }
            Assert.AreEqual(spec.Rows, fast.SimplexSolves);
            Assert.AreEqual(0, fast.Fallbacks);
            Assert.IsTrue(fast.SimplexIterations > 0);
        }
    }

    /// <summary>
    /// The build's one-sided rows (max below qu - 1e-9): where GLOP proves max &lt; limit by its early stop, the simplex
    /// stops too (or solves exactly to a value below the limit), and its stop carries multipliers whose bound, with its
    /// rounding, is below the limit; where GLOP needs the exact maximum, the simplex finds the same one.
    /// </summary>
    [TestMethod]
    public void MnistRegions_EarlyStopsCarryCertificates()
    {
        int stops = 0;
        foreach (var (net, region, spec) in MnistRegions.Value)
        {
            using var glop = new RegionLp(region, null, RegionLpEngine.Glop);
            using var fast = new RegionLp(region);
            var w = new double[net.OutputSize];
            for (int r = 0; r < spec.Rows; r++)
            {
                for (int i = 0; i < w.Length; i++) w[i] = spec.P[r, i];
                double limit = spec.Upper[r] - FastPatcher.StopMargin * Math.Max(1, Math.Abs(spec.Upper[r]));
                var expected = glop.MaximizeBelow(w, [], 0, limit);
                var got = fast.MaximizeBelow(w, [], 0, limit);
                if (expected.Exact)
                {
                    Assert.IsTrue(got.Exact, $"row {r}");
                    Assert.AreEqual(expected.Value, got.Value, 1e-9 * Math.Max(1, Math.Abs(expected.Value)), $"row {r}");
                }
                else if (!got.Exact)
                {
                    stops++;
                    Assert.IsNotNull(got.Certificate, $"row {r}: a stop of the simplex has multipliers");
                    double bound = got.Certificate.UpperBound(region, w, [], 0, out double err);
                    Assert.IsTrue(bound + err < limit, $"row {r}: {bound} + {err} vs limit {limit}");
                }
                else
                {
                    Assert.IsTrue(got.Value < limit, $"row {r}: GLOP proved max < {limit}, the simplex found {got.Value}");
                }
            }
            Assert.AreEqual(0, fast.Fallbacks);
        }
        Assert.IsTrue(stops > 0, "some rows stop early");
    }

    /// <summary>
    /// With the simplex, the build's early-stopped rows come with multipliers: the check proves all nine rows of test[15]
    /// by certificates, none by a bare stop and none by an LP; a patch raised by 1000 on a stopped row is not proved.
    /// </summary>
    [TestMethod]
    public void MnistRegion_BuildWithSimplex_EveryRowCertified()
    {
        var (net, region, spec) = DualCertificateTests.Mnist.Value;
        using var lp = new RegionLp(region);
        var patch = FastPatcher.Build(region, spec, lp, default, out var certs);
        Assert.IsFalse(patch.IsZero);
        Assert.IsTrue(lp.EarlyStops > 0);
        Assert.IsTrue(certs.Upper.All(c => c is not null), "every row has multipliers, stopped or exact");
        var ok = PatchVerifier.Check(region, patch, spec, PatchVerifier.CheckFormulation.Certificate, certs);
        Assert.IsTrue(ok.Verified, $"worst slack {ok.WorstSlack}");
        Assert.AreEqual(spec.Rows, ok.Certified);
        Assert.AreEqual(0, ok.ByBuildStop);
        Assert.AreEqual(0, ok.LinearPrograms);

        int row = Enumerable.Range(0, spec.Rows).First(r => double.IsFinite(certs.UpperStops![r]));
        int output = Enumerable.Range(0, net.OutputSize).Single(o => spec.P[row, o] == 1);
        var d = (double[])patch.D.Clone();
        d[output] += 1000;
        var bad = PatchVerifier.Check(region, new AffinePatch(patch.Inputs, patch.C, d), spec, PatchVerifier.CheckFormulation.Certificate, certs);
        Assert.IsFalse(bad.Verified, "a row raised by 1000 is violated somewhere in the region");
    }

    /// <summary>
    /// A region with an extra row (a split hyperplane, as area repair cuts regions): optima equal GLOP's for 24 objectives
    /// over both outputs and the inputs, with the simplex answering every one.
    /// </summary>
    [TestMethod]
    public void TinyCutRegion_ExtraRow_OptimaEqualGlops()
    {
        var net = TinyNetworks.Deep();
        var region = new LinearRegion(net, net.Pattern([0.3, -0.2]), TinyNetworks.Box).Cut(new HalfSpace([1.0, 1.0], 0.2));
        Assert.IsTrue(region.Contains([0.3, -0.2]));
        using var glop = new RegionLp(region, null, RegionLpEngine.Glop);
        using var fast = new RegionLp(region);
        var rng = new Random(5);
        for (int k = 0; k < 24; k++)
        {
            double[] w = [rng.NextDouble() * 2 - 1, rng.NextDouble() * 2 - 1];
            double[] c = [rng.NextDouble() - 0.5, rng.NextDouble() - 0.5];
            double expected = glop.Maximize(w, c, 0.1).Value;
            var got = fast.Maximize(w, c, 0.1);
            Assert.AreEqual(expected, got.Value, 1e-9, $"objective {k}");
            Assert.IsTrue(region.ExtraRows[0].Slack(got.X) >= -1e-9);
        }
        Assert.AreEqual(0, fast.Fallbacks);
        Assert.AreEqual(24, fast.SimplexSolves);
        Assert.AreEqual(0, glop.SimplexSolves);
    }

    /// <summary>The same region and row order give bit-identical maximisers and values on every run (thread-independent repair).</summary>
    [TestMethod]
    public void MnistRegion_SameAnswerOnEveryRun()
    {
        var (net, region, spec) = DualCertificateTests.Mnist.Value;
        double[] Run()
        {
            using var lp = new RegionLp(region);
            var w = new double[net.OutputSize];
            var all = new List<double>();
            for (int r = 0; r < spec.Rows; r++)
            {
                for (int i = 0; i < w.Length; i++) w[i] = spec.P[r, i];
                var res = lp.MaximizeOutput(w);
                all.Add(res.Value);
                all.AddRange(res.X);
            }
            return all.ToArray();
        }
        var first = Run();
        var second = Task.Run(Run).Result;
        CollectionAssert.AreEqual(first, second);
    }

    private static readonly Lazy<List<(Network Net, LinearRegion Region, LinearSpecification Spec)>> MnistRegions = new(() =>
    {
        var net = OnnxImporter.Load(TestData.File("models", "reassure-mnist-256x256.onnx")).Network;
        var xs = MnistIdx.ReadImages(TestData.File("mnist", "t10k-images-idx3-ubyte.gz"));
        var ys = MnistIdx.ReadLabels(TestData.File("mnist", "t10k-labels-idx1-ubyte.gz"));
        var box = InputBox.Uniform(net.InputSize, 0, 1);
        var list = new List<(Network, LinearRegion, LinearSpecification)>();
        foreach (int i in new[] { 15, 217, 247 })
        {
            Assert.AreNotEqual(ys[i], TinyNetworks.ArgMax(net.Evaluate(xs[i])), $"test[{i}] is misclassified");
            list.Add((net, new LinearRegion(net, net.Pattern(xs[i]), box), new ClassificationSpecification(ys[i], 1e-3).ToLinear(net.OutputSize)));
        }
        return list;
    });
}
