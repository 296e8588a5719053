using Reassure.Formats.Mnist;
using Reassure.Formats.Onnx;
using Reassure.Lp;
using Reassure.Networks;
using Reassure.Regions;
using Reassure.Specifications;

namespace Reassure.Tests.Lp;

/// <summary>
/// The LP backend seam (<see cref="IPolytopeLp"/>, issue 21): GLOP and the input-space simplex answer the same polytope
/// LPs, by hand on two inputs and on the explicit polytope rows of real MNIST regions (method.md §1: one row per hidden
/// neuron in input space, the box as bounds), with optima equal within an explicit tolerance.
/// </summary>
[TestClass]
public sealed class LpBackendTests
{
    /// <summary>Relative tolerance between the two backends' optima (both solve to 1e-9 primal/dual tolerances).</summary>
    private const double Tolerance = 1e-7;

    /// <summary>
    /// max x1 + 2 x2 + 1 over [0, 1]^2 with x1 + x2 &lt;= 1.5 and x2 - x1 &lt;= 0.25: the optimum 2.375 + 1 at
    /// (0.625, 0.875), where both rows are tight (the vertices of the polytope by hand: 0, 1, 2, 2.375, 0.5).
    /// </summary>
    [TestMethod]
    public void TwoInputs_BothBackendsFindTheVertexByHand()
    {
        var rows = new List<HalfSpace> { new([1.0, 1.0], 1.5), new([-1.0, 1.0], 0.25) };
        var box = InputBox.Uniform(2, 0, 1);
        foreach (var kind in new[] { LpBackendKind.Glop, LpBackendKind.InputSimplex })
        {
            using var lp = LpBackend.Polytope(rows, box, kind);
            Assert.AreEqual(kind == LpBackendKind.Glop ? typeof(PolytopeLp) : typeof(SimplexPolytopeLp), lp.GetType());
            var result = lp.Maximize([1.0, 2.0], 1);
            Assert.AreEqual(3.375, result.Value, 1e-12, kind.ToString());
            Assert.AreEqual(0.625, result.X[0], 1e-12, kind.ToString());
            Assert.AreEqual(0.875, result.X[1], 1e-12, kind.ToString());
            Assert.AreEqual(1, lp.Solves);
        }
    }

    /// <summary>The simplex needs a finite box: with an infinite bound the factory hands the LP to GLOP.</summary>
    [TestMethod]
    public void InfiniteBox_FallsToGlop()
    {
        var rows = new List<HalfSpace> { new([1.0, 1.0], 1.5) };
        var box = new InputBox([0.0, 0.0], [1.0, double.PositiveInfinity]);
        using var lp = LpBackend.Polytope(rows, box, LpBackendKind.InputSimplex);
        Assert.IsInstanceOfType<PolytopeLp>(lp);
        Assert.AreEqual(1.5, lp.Maximize([1.0, 1.0]).Value, 1e-9);
    }

    /// <summary>
    /// Two MNIST regions (test images 15 and 247 of tests/data; 512 neuron rows over 784 inputs in [0, 1]): for every
    /// specification row both ways (max and min of P_r y = P_r (F x + e) over the region), GLOP's optimum and the simplex's
    /// agree within <see cref="Tolerance"/>; the simplex answered every LP itself (its multipliers closed, no fallback),
    /// and its maximiser meets every row and bound within 1e-7.
    /// </summary>
    [TestMethod]
    public void MnistRegionPolytopes_GlopAndSimplexOptimaAgree()
    {
        var net = OnnxImporter.Load(TestData.File("models", "reassure-mnist-256x256.onnx")).Network;
        var xs = MnistIdx.ReadImages(TestData.File("mnist", "t10k-images-idx3-ubyte.gz"));
        var ys = MnistIdx.ReadLabels(TestData.File("mnist", "t10k-labels-idx1-ubyte.gz"));
        var box = InputBox.Uniform(net.InputSize, 0, 1);
        int compared = 0;
        foreach (int i in new[] { 15, 247 })
        {
            var region = new LinearRegion(net, net.Pattern(xs[i]), box);
            var rows = region.PolytopeRows();
            var spec = new ClassificationSpecification(ys[i], 1e-3).ToLinear(net.OutputSize);
            using var glop = LpBackend.Polytope(rows, box, LpBackendKind.Glop);
            using var simplex = LpBackend.Polytope(rows, box, LpBackendKind.InputSimplex);
            var e = region.OutputOffset;
            var w = new double[net.OutputSize];
            for (int r = 0; r < spec.Rows; r++)
            {
                foreach (double sign in new[] { 1.0, -1.0 })
                {
                    for (int o = 0; o < w.Length; o++) w[o] = sign * spec.P[r, o];
                    var c = region.InputRow(w); // F^T w
                    double c0 = 0;
                    for (int o = 0; o < w.Length; o++) c0 += w[o] * e[o];
                    var expected = glop.Maximize(c, c0);
                    var got = simplex.Maximize(c, c0);
                    Assert.AreEqual(expected.Value, got.Value, Tolerance * Math.Max(1, Math.Abs(expected.Value)), $"test[{i}] row {r} sign {sign}");
                    foreach (var row in rows)
                        Assert.IsTrue(Blas.Dot(row.A, got.X) <= row.B + 1e-7, $"test[{i}] row {r}: the maximiser leaves the polytope");
                    for (int j = 0; j < got.X.Length; j++)
                        Assert.IsTrue(got.X[j] >= -1e-7 && got.X[j] <= 1 + 1e-7, $"test[{i}] row {r}: the maximiser leaves the box");
                    compared++;
                }
            }
            Assert.AreEqual(0, ((SimplexPolytopeLp)simplex).Fallbacks, $"test[{i}]: the simplex handed LPs to GLOP");
            Assert.AreEqual(2 * spec.Rows, simplex.Solves);
        }
        Assert.AreEqual(2 * 2 * 9, compared);
    }
}
