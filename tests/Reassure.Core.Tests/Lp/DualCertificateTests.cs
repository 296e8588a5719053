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
/// The weak-duality certificate of the layered region LP (DualCertificate): bound = y . b + sum_k max(r_k lo_k, r_k hi_k),
/// r = c - A^T y. Checked by hand on a one-neuron network, against GLOP's optimum on a real MNIST region, and on a
/// corrupted patch, which it must not prove.
/// </summary>
[TestClass]
public sealed class DualCertificateTests
{
    /// <summary>
    /// 1 -> 1 -> 1: z = x - 0.5, y = 2 relu(z), x in [0, 1], active pattern (region x in [0.5, 1], y = 2x - 1 there).
    /// LP: max 2 v s.t. v - x = -0.5, v >= 0, x in [0, 1]. With y_1 = 2: r_v = 2 - 2 = 0, r_x = 0 + 2 = 2, bound
    /// = 2 (-0.5) + max(0, 2) = 1 = the max. With the extra row x &lt;= 0.8 and y_e = 2: r_x = 0, bound
    /// = -1 + 1.6 = 0.6 = 2 (0.8) - 1.
    /// </summary>
    [TestMethod]
    public void OneNeuron_BoundsByHand()
    {
        var net = new Network([new DenseLayer(1, 1, [1], [-0.5], relu: true), new DenseLayer(1, 1, [2], [0], relu: false)]);
        var box = InputBox.Uniform(1, 0, 1);
        var region = new LinearRegion(net, net.Pattern([0.9]), box);
        Assert.IsTrue(region.Pattern[0]);
        double b = new DualCertificate([2.0]).UpperBound(region, [1.0], [], 0, out double err);
        Assert.AreEqual(1.0, b, 1e-15);
        Assert.IsTrue(err >= 0 && err < 1e-12, $"rounding bound {err}");
        // y = 0 leaves r_v = 2 on v in [0, U] with U = 0.5 (widened): still a valid, slightly larger bound.
        double loose = new DualCertificate([0.0]).UpperBound(region, [1.0], [], 0, out _);
        Assert.IsTrue(loose >= 1.0 && loose < 1.0 + 1e-5, $"{loose}");
        // A patched objective y + 0.25 x - 0.1: with the same y, r_x = 2.25, bound 1 + 0.25 - 0.1 = 1.15.
        Assert.AreEqual(1.15, new DualCertificate([2.0]).UpperBound(region, [1.0], [0.25], -0.1, out _), 1e-15);

        var cut = region.Cut(new HalfSpace([1.0], 0.8));
        Assert.AreEqual(0.6, new DualCertificate([2.0, 2.0]).UpperBound(cut, [1.0], [], 0, out _), 1e-15);
        // A negative multiplier of an inequality row is clamped to 0 (else the bound would not be one): back to 1.
        Assert.AreEqual(1.0, new DualCertificate([2.0, -5.0]).UpperBound(cut, [1.0], [], 0, out _), 1e-15);

        // GLOP's multipliers give the same bounds (its sign convention is the one the certificate assumes).
        using var lp = new RegionLp(region, null, RegionLpEngine.Glop);
        Assert.AreEqual(1.0, lp.MaximizeOutput([1.0]).Value, 1e-12);
        Assert.AreEqual(1.0, lp.Certificate().UpperBound(region, [1.0], [], 0, out _), 1e-12);
        using var lpCut = new RegionLp(cut, null, RegionLpEngine.Glop);
        Assert.AreEqual(0.6, lpCut.MaximizeOutput([1.0]).Value, 1e-12);
        Assert.AreEqual(0.6, lpCut.Certificate().UpperBound(cut, [1.0], [], 0, out _), 1e-12);
    }

    /// <summary>
    /// A two-sided row on a tiny network forces the scaled (affine, C != 0) patch: both sides are solved exactly, so both
    /// are proved by certificates with the patched objective P_r (F + C) x + P_r (e + d); scaling C back up breaks it.
    /// </summary>
    [TestMethod]
    public void TinyTwoSidedRow_AffinePatchProvedByCertificates_CorruptedScaleIsNot()
    {
        var net = TinyNetworks.Deep();
        var x0 = new[] { 0.3, -0.2 };
        var region = new LinearRegion(net, net.Pattern(x0), TinyNetworks.Box);
        using var lp = new RegionLp(region);
        double hi = lp.MaximizeOutput([1.0, 0.0]).Value, lo = -lp.MaximizeOutput([-1.0, 0.0]).Value;
        Assert.IsTrue(hi - lo > 1e-3, $"output 0 ranges over [{lo}, {hi}] on the region");
        double mid = 0.5 * (hi + lo), half = 0.25 * (hi - lo);
        var spec = new LinearSpecification(new double[,] { { 1, 0 } }, [mid - half + 0.1], [mid + half + 0.1]);
        var patch = FastPatcher.Build(region, spec, lp, default, out var certs);
        Assert.IsNotNull(patch.C, "a scaled patch");
        Assert.IsNotNull(certs.Upper[0]);
        Assert.IsNotNull(certs.Lower[0]);
        var ok = PatchVerifier.Check(region, patch, spec, PatchVerifier.CheckFormulation.Certificate, certs);
        Assert.IsTrue(ok.Verified, $"worst slack {ok.WorstSlack}");
        double[] cx = patch.C!.Take(2).ToArray();
        double ub = certs.Upper[0]!.ForObjective(region, [1.0, 0.0], cx).UpperBound(region, [1.0, 0.0], cx, patch.D[0], out double e1);
        double ub0 = certs.Upper[0]!.UpperBound(region, [1.0, 0.0], [], 0, out _);
        Assert.AreEqual(2, ok.Certified, $"hi {hi} lo {lo} spec [{spec.Lower[0]}, {spec.Upper[0]}] ub {ub} + {e1}, ub unpatched {ub0}, C {string.Join(",", patch.C!)} d {string.Join(",", patch.D)}");
        Assert.AreEqual(0, ok.LinearPrograms);
        var layered = PatchVerifier.Check(region, patch, spec, PatchVerifier.CheckFormulation.Layered);
        Assert.IsTrue(layered.Verified);
        Assert.AreEqual(layered.WorstSlack, ok.WorstSlack, 1e-6, "the certificate's slack is the LP's");

        var c = patch.C!.Select(v => v * 0.5).ToArray(); // half the scaling: the range is too wide again
        var bad = PatchVerifier.Check(region, new AffinePatch(2, c, patch.D), spec, PatchVerifier.CheckFormulation.Certificate, certs);
        Assert.IsFalse(bad.Verified, $"corrupted patch slack {bad.WorstSlack}");
        Assert.IsTrue(bad.LinearPrograms > 0, "a row whose certificate does not close falls back to an LP");
    }

    internal static readonly Lazy<(Network Net, LinearRegion Region, LinearSpecification Spec)> Mnist = new(() =>
    {
        var model = OnnxImporter.Load(TestData.File("models", "reassure-mnist-256x256.onnx"));
        var xs = MnistIdx.ReadImages(TestData.File("mnist", "t10k-images-idx3-ubyte.gz"));
        var ys = MnistIdx.ReadLabels(TestData.File("mnist", "t10k-labels-idx1-ubyte.gz"));
        var net = model.Network;
        // Test image 15 is the first one the network misclassifies (method.md §7).
        Assert.AreNotEqual(ys[15], TinyNetworks.ArgMax(net.Evaluate(xs[15])));
        var region = new LinearRegion(net, net.Pattern(xs[15]), InputBox.Uniform(net.InputSize, 0, 1));
        return (net, region, new ClassificationSpecification(ys[15], 1e-3).ToLinear(net.OutputSize));
    });

    [TestMethod]
    [DataRow(RegionLpEngine.Glop)]
    [DataRow(RegionLpEngine.Auto)]
    public void MnistRegion_CertificateBoundsEveryRowWithin1e6OfTheOptimum(RegionLpEngine engine)
    {
        var (net, region, spec) = Mnist.Value;
        using var lp = new RegionLp(region, null, engine);
        var w = new double[net.OutputSize];
        for (int r = 0; r < spec.Rows; r++)
        {
            for (int i = 0; i < w.Length; i++) w[i] = spec.P[r, i];
            double optimum = lp.MaximizeOutput(w).Value;
            double bound = lp.Certificate().UpperBound(region, w, [], 0, out double err);
            Assert.IsTrue(bound + err >= optimum - 1e-9, $"row {r}: bound {bound:R} + {err:G3} below the LP optimum {optimum:R}");
            Assert.IsTrue(bound - optimum <= 1e-6 * Math.Max(1, Math.Abs(optimum)), $"row {r}: bound {bound:R} vs optimum {optimum:R}");
            Assert.IsTrue(err < 1e-7, $"row {r}: rounding bound {err}");
        }
    }

    [TestMethod]
    public void MnistRegion_PatchProvedByCertificates_CorruptedShiftIsNot()
    {
        var (net, region, spec) = Mnist.Value;
        using var lp = new RegionLp(region);
        var patch = FastPatcher.Build(region, spec, lp, default, out var certs);
        Assert.IsFalse(patch.IsZero);
        int exact = certs.Upper.Count(c => c is not null);
        Assert.IsTrue(exact > 0, "the misclassified class's row is solved exactly");
        var ok = PatchVerifier.Check(region, patch, spec, PatchVerifier.CheckFormulation.Certificate, certs);
        Assert.IsTrue(ok.Verified, $"worst slack {ok.WorstSlack}");
        Assert.AreEqual(exact, ok.Certified, "every exact row closes by its certificate");
        Assert.IsTrue(ok.WorstSlack >= 0);

        // The same patch with its shift made smaller: every row the patch moved is no longer proved by its certificate,
        // and the whole check fails (those rows fall back to an LP, which finds the violation).
        var smaller = new AffinePatch(patch.Inputs, patch.C, patch.D.Select(v => v * 0.5).ToArray());
        var bad = PatchVerifier.Check(region, smaller, spec, PatchVerifier.CheckFormulation.Certificate, certs);
        Assert.IsFalse(bad.Verified, $"corrupted patch slack {bad.WorstSlack}");
        var w = new double[net.OutputSize];
        int moved = 0;
        for (int r = 0; r < spec.Rows; r++)
        {
            if (certs.Upper[r] is not { } cert) continue;
            for (int i = 0; i < w.Length; i++) w[i] = spec.P[r, i];
            double shift = 0, shiftSmaller = 0;
            for (int i = 0; i < w.Length; i++) { shift += w[i] * patch.D[i]; shiftSmaller += w[i] * smaller.D[i]; }
            // A row the patch leaves alone gets P_r d = 0 only up to rounding (about 1e-16, FastPatcher.StopMargin): not moved.
            if (Math.Abs(shift) <= 1e-12) continue;
            moved++;
            double bound = cert.UpperBound(region, w, [], shiftSmaller, out double err);
            Assert.IsTrue(bound + err > spec.Upper[r], $"row {r}: corrupted bound {bound} proved (shift {shift:R})");
        }
        Assert.IsTrue(moved > 0);
    }

    /// <summary>
    /// Rows the build's dual simplex stopped early on are proved by that stop (max P_r y &lt; L_r) plus the patch's own
    /// term, without an LP; the stricter formulation solves them again. A patch that raises a stopped row by more than
    /// the stop's room sends that row to an LP, and a large raise is caught as a violation.
    /// </summary>
    [TestMethod]
    public void MnistRegion_EarlyStoppedRows_ProvedByTheBuildsStop_ARaisedRowIsNot()
    {
        // GLOP's stop (the fallback path) gives no multipliers: the stop itself is recorded.
        var (net, region, spec) = Mnist.Value;
        using var lp = new RegionLp(region, null, RegionLpEngine.Glop);
        var patch = FastPatcher.Build(region, spec, lp, default, out var certs);
        var stopped = Enumerable.Range(0, spec.Rows).Where(r => double.IsFinite(certs.UpperStops![r])).ToList();
        Assert.IsTrue(stopped.Count > 0, "test[15] has rows the dual simplex stops early on");
        foreach (int r in stopped) Assert.IsNull(certs.Upper[r], "a stopped row has no multipliers");
        Assert.IsTrue(stopped.All(r => certs.UpperStops![r] < spec.Upper[r]), "the stop is asked for below qu");

        var ok = PatchVerifier.Check(region, patch, spec, PatchVerifier.CheckFormulation.Certificate, certs);
        Assert.IsTrue(ok.Verified);
        Assert.AreEqual(stopped.Count, ok.ByBuildStop);
        Assert.AreEqual(0, ok.LinearPrograms, "every row is proved by a certificate or by the build's stop");
        Assert.AreEqual(spec.Rows, ok.Certified + ok.ByBuildStop);

        var strict = PatchVerifier.Check(region, patch, spec, PatchVerifier.CheckFormulation.CertificateAndLp, certs);
        Assert.IsTrue(strict.Verified);
        Assert.AreEqual(0, strict.ByBuildStop);
        Assert.IsTrue(strict.LinearPrograms >= stopped.Count, $"{strict.LinearPrograms} LPs for {stopped.Count} stopped rows");

        // Row r = y_i - y_t: raising output i moves only that row.
        int row = stopped[0];
        int output = Enumerable.Range(0, net.OutputSize).Single(o => spec.P[row, o] == 1);
        AffinePatch Raised(double by)
        {
            var d = (double[])patch.D.Clone();
            d[output] += by;
            return new AffinePatch(patch.Inputs, patch.C, d);
        }
        var small = PatchVerifier.Check(region, Raised(1e-6), spec, PatchVerifier.CheckFormulation.Certificate, certs);
        Assert.AreEqual(stopped.Count - 1, small.ByBuildStop, "1e-6 is more than the stop's room: that row goes to an LP");
        Assert.IsTrue(small.LinearPrograms >= 1);
        var large = PatchVerifier.Check(region, Raised(1000), spec, PatchVerifier.CheckFormulation.Certificate, certs);
        Assert.IsFalse(large.Verified, "a row raised by 1000 is violated somewhere in the region");
    }
}
