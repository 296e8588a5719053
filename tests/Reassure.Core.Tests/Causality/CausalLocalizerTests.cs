using Reassure.Causality;
using Reassure.Formats.Mnist;
using Reassure.Formats.Onnx;
using Reassure.Networks;

namespace Reassure.Tests.Causality;

/// <summary>
/// <see cref="CausalLocalizer"/>: a planted faulty neuron is ranked first; the batched curves equal the naive full
/// forward passes; v = the observed value gives the baseline bit for bit; the result does not depend on the thread
/// count; the MNIST network's 512 hidden neurons over its first 100 misclassified test images run and rank.
/// </summary>
[TestClass]
public sealed class CausalLocalizerTests
{
    public TestContext TestContext { get; set; } = null!;

    /// <summary>
    /// 2 -> 4 (ReLU) -> 3. h0 = relu(x0), h1 = relu(x1), h2 = relu(x0 + x1), h3 = relu(-x0);
    /// o0 = h0 + h1, o1 = 5 h2 (the planted fault: a large weight into the wrong output), o2 = 0.5 h3.
    /// On rows with x0, x1 in (0, 1) and label 0: h3 is dead, the margin is o0 - o1 = h0 + h1 - 5 h2, so do(h2 = v)
    /// moves the mean margin by 5 per unit of v over h2's range, do(h0 = v) or do(h1 = v) by 1 per unit of a smaller range.
    /// </summary>
    private static Network Planted() => new(
    [
        new DenseLayer(2, 4, [1, 0, 0, 1, 1, 1, -1, 0], [0, 0, 0, 0], relu: true),
        new DenseLayer(4, 3, [1, 1, 0, 0, 0, 0, 5, 0, 0, 0, 0, 0.5], [0, 0, 0], relu: false),
    ]);

    private static (double[][] X, int[] Y) PlantedRows()
    {
        var x = TinyNetworks.RandomPoints(40, 17, InputBox.Uniform(2, 0.05, 0.95)).ToArray();
        return (x, new int[x.Length]);
    }

    [TestMethod]
    public void PlantedFaultyNeuronIsRankedFirst()
    {
        var net = Planted();
        var (x, y) = PlantedRows();
        var result = CausalLocalizer.Localize(net, x, y);
        Assert.AreEqual(1, result.Layers.Count);
        var ranked = result.Layers[0].Ranked;
        Assert.AreEqual(2, ranked[0].Neuron, "the neuron with the large weight into the wrong output comes first");
        Assert.AreEqual(0.0, result.Layers[0].Neurons[3].Effect, "h3 is dead on every row: no effect");
        // Hand check: M(v) is affine in v with slope -5 for h2, +1 for h0, so the spread is 5 (hi - lo) and (hi - lo).
        var h2 = result.Layers[0].Neurons[2];
        Assert.AreEqual(5 * (h2.ObservedMax - h2.ObservedMin), h2.Effect, 1e-12);
        var h0 = result.Layers[0].Neurons[0];
        Assert.AreEqual(h0.ObservedMax - h0.ObservedMin, h0.Effect, 1e-12);
        Assert.AreEqual(x.Min(r => r[0] + r[1]), h2.ObservedMin, 1e-15);
        Assert.AreEqual(LocalizationOptions.DefaultGridSteps, h2.Grid.Count);
        Assert.AreEqual(h2.ObservedMin, h2.Grid[0]);
        Assert.AreEqual(h2.ObservedMax, h2.Grid[^1]);
        Assert.AreEqual(x.Average(r => r[0] + r[1] - 5 * (r[0] + r[1])), result.BaselineMeanMargin, 1e-12);
        Assert.AreEqual(2, result.Ranked[0].Neuron);
    }

    [TestMethod]
    public void CurvesEqualNaiveFullForwardPasses()
    {
        var net = TinyNetworks.Deep();
        var x = TinyNetworks.RandomPoints(30, 5).ToArray();
        var y = x.Select((r, i) => i % 2).ToArray();
        var result = CausalLocalizer.Localize(net, x, y, new LocalizationOptions { GridSteps = 5 });
        Assert.AreEqual(2, result.Layers.Count);
        foreach (var layer in result.Layers)
            foreach (var e in layer.Neurons)
                for (int k = 0; k < e.Grid.Count; k++)
                {
                    double naive = Enumerable.Range(0, x.Length)
                        .Sum(r => CausalLocalizer.Margin(CausalLocalizer.Intervene(net, x[r], e.Layer, e.Neuron, e.Grid[k]), y[r])) / x.Length;
                    Assert.AreEqual(naive, e.MeanMargins[k], 1e-12, $"layer {e.Layer} neuron {e.Neuron} v = {e.Grid[k]}");
                }
    }

    [TestMethod]
    public void InterventionAtTheObservedValueReproducesTheBaselineExactly()
    {
        var net = TinyNetworks.Deep();
        foreach (var x in TinyNetworks.RandomPoints(10, 9))
        {
            var y = net.Evaluate(x);
            var z = net.PreActivations(x);
            double margin = CausalLocalizer.Margin(y, 1);
            // Naive path: do(a_j = a_j(x)) is the network.
            for (int l = 0; l < 2; l++)
                for (int j = 0; j < 3; j++)
                    CollectionAssert.AreEqual(y, CausalLocalizer.Intervene(net, x, l, j, Math.Max(0, net.LayerSlice(z, l)[j])));
            // Batched path on one row: the grid is the observed value, every curve point is the baseline bit for bit.
            var result = CausalLocalizer.Localize(net, [x], [1]);
            Assert.AreEqual(margin, result.BaselineMeanMargin);
            foreach (var e in result.Layers.SelectMany(l => l.Neurons))
            {
                Assert.AreEqual(0.0, e.Effect);
                foreach (var m in e.MeanMargins) Assert.AreEqual(margin, m);
            }
        }
        // Several rows: h3 of the planted net is dead (0) on every row, so every grid value is every row's observed
        // value and the whole curve is the baseline, bit for bit.
        var planted = Planted();
        var (xs, ys) = PlantedRows();
        var r = CausalLocalizer.Localize(planted, xs, ys);
        foreach (var m in r.Layers[0].Neurons[3].MeanMargins) Assert.AreEqual(r.BaselineMeanMargin, m);
    }

    [TestMethod]
    public void LayerByNameOrIndex_UnknownNameIsRsr1053ListingTheNames()
    {
        var model = OnnxImporter.Load(TestData.File("models", "reassure-mnist-256x256.onnx"));
        var net = model.Network;
        var names = net.Layers.Take(2).Select(l => l.Names.Activation ?? l.Names.PreActivation).ToArray();
        Assert.IsNotNull(names[1]);
        Assert.AreEqual(1, CausalLocalizer.SelectLayers(net, new LocalizationOptions { Layer = names[1] }).Single());
        Assert.AreEqual(1, CausalLocalizer.SelectLayers(net, new LocalizationOptions { Layer = net.Layers[1].Names.PreActivation }).Single());
        Assert.AreEqual(0, CausalLocalizer.SelectLayers(net, new LocalizationOptions { LayerIndex = 0 }).Single());
        var e = Assert.ThrowsExactly<ReassureException>(() => CausalLocalizer.SelectLayers(net, new LocalizationOptions { Layer = "nope" }));
        Assert.AreEqual(ErrorCodes.UnknownLayer, e.Code);
        StringAssert.Contains(e.Message, "'nope'");
        StringAssert.Contains(e.Message, $"'{names[0]}'");
        StringAssert.Contains(e.Message, $"'{names[1]}'");
        var output = Assert.ThrowsExactly<ReassureException>(() => CausalLocalizer.SelectLayers(net, new LocalizationOptions { Layer = net.Layers[2].Names.PreActivation }));
        StringAssert.Contains(output.Message, "output layer");
        Assert.AreEqual(ErrorCodes.UnknownLayer, Assert.ThrowsExactly<ReassureException>(() => CausalLocalizer.SelectLayers(net, new LocalizationOptions { LayerIndex = 2 })).Code);
        Assert.AreEqual(ErrorCodes.RowsBadLabel, Assert.ThrowsExactly<ReassureException>(() => CausalLocalizer.Localize(Planted(), [[0.5, 0.5]], [3])).Code);
        Assert.AreEqual(ErrorCodes.InvalidOption, Assert.ThrowsExactly<ReassureException>(() => CausalLocalizer.Localize(Planted(), [[0.5, 0.5]], [0], new LocalizationOptions { GridSteps = 1 })).Code);
        Assert.AreEqual(ErrorCodes.RowsEmpty, Assert.ThrowsExactly<ReassureException>(() => CausalLocalizer.Localize(Planted(), [], [])).Code);
    }

    [TestMethod]
    [DoNotParallelize]
    public void Mnist512NeuronsOverFirstHundredMisclassified_RankAndAreThreadCountIndependent()
    {
        var model = OnnxImporter.Load(TestData.File("models", "reassure-mnist-256x256.onnx"));
        var net = model.Network;
        var images = MnistIdx.ReadImages(TestData.File("mnist", "t10k-images-idx3-ubyte.gz"));
        var labels = MnistIdx.ReadLabels(TestData.File("mnist", "t10k-labels-idx1-ubyte.gz"));
        var outputs = net.EvaluateBatch(images);
        var wrong = Enumerable.Range(0, images.Length).Where(i => TinyNetworks.ArgMax(outputs[i]) != labels[i]).Take(100).ToArray();
        Assert.HasCount(100, wrong);
        var x = wrong.Select(i => images[i]).ToArray();
        var y = wrong.Select(i => labels[i]).ToArray();
        var all = CausalLocalizer.Localize(net, x, y, new LocalizationOptions { MaxDegreeOfParallelism = Environment.ProcessorCount });
        var one = CausalLocalizer.Localize(net, x, y, new LocalizationOptions { MaxDegreeOfParallelism = 1 });
        Assert.AreEqual(2, all.Layers.Count);
        Assert.AreEqual(512, all.Ranked.Count);
        Assert.IsLessThan(0.0, all.BaselineMeanMargin, "misclassified rows: the label loses on average");
        Assert.AreEqual(all.BaselineMeanMargin, one.BaselineMeanMargin);
        for (int l = 0; l < 2; l++)
            for (int j = 0; j < 256; j++)
            {
                var a = all.Layers[l].Neurons[j];
                var b = one.Layers[l].Neurons[j];
                Assert.AreEqual(a.Effect, b.Effect);
                CollectionAssert.AreEqual(a.MeanMargins.ToArray(), b.MeanMargins.ToArray());
                CollectionAssert.AreEqual(a.Grid.ToArray(), b.Grid.ToArray());
            }
        CollectionAssert.AreEqual(all.Ranked.Select(e => (e.Layer, e.Neuron)).ToArray(), one.Ranked.Select(e => (e.Layer, e.Neuron)).ToArray());
        for (int k = 1; k < all.Ranked.Count; k++) Assert.IsGreaterThanOrEqualTo(all.Ranked[k].Effect, all.Ranked[k - 1].Effect);
        Assert.IsGreaterThan(0.0, all.Ranked[0].Effect);
        // Spot check against the naive full forward pass: the top neuron at both ends of its grid.
        var top = all.Ranked[0];
        foreach (int k in new[] { 0, top.Grid.Count - 1 })
        {
            double naive = Enumerable.Range(0, x.Length).Sum(r => CausalLocalizer.Margin(CausalLocalizer.Intervene(net, x[r], top.Layer, top.Neuron, top.Grid[k]), y[r])) / x.Length;
            Assert.AreEqual(naive, top.MeanMargins[k], 1e-9);
        }
        TestContext.WriteLine($"{all.Elapsed.TotalSeconds:F2} s ({Environment.ProcessorCount} threads), {one.Elapsed.TotalSeconds:F2} s (1 thread); baseline mean margin {all.BaselineMeanMargin:F4}");
        foreach (var e in all.Ranked.Take(10))
            TestContext.WriteLine($"{all.Layers[e.Layer].Name}[{e.Neuron}] effect {e.Effect:F4} range [{e.ObservedMin:F3}, {e.ObservedMax:F3}]");
    }
}
