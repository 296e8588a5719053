using Reassure.Formats.NNet;
using Reassure.Formats.Onnx;

namespace Reassure.Tests.Formats;

[TestClass]
public sealed class NNetReaderTests
{
    public TestContext TestContext { get; set; } = null!;

    [TestMethod]
    [DataRow("HCAS_rect_v6_pra1_tau05_25HU_3000.nnet", "hcas-pra1-tau05.onnx")]
    [DataRow("HCAS_rect_v6_pra1_tau20_25HU_3000.nnet", "hcas-pra1-tau20.onnx")]
    public void RawNetworkEqualsConvertedOnnxAsFloat32(string nnet, string onnx)
    {
        var model = NNetReader.Load(TestData.File("models", nnet));
        var reference = OnnxImporter.Load(TestData.File("models", onnx)).Network;
        Assert.HasCount(reference.Layers.Count, model.Network.Layers);
        for (int l = 0; l < reference.Layers.Count; l++)
        {
            var (a, b) = (model.Network.Layers[l], reference.Layers[l]);
            Assert.AreEqual(b.Relu, a.Relu);
            CollectionAssert.AreEqual(b.Weights, a.Weights.Select(v => (double)(float)v).ToArray(), $"layer {l} weights");
            CollectionAssert.AreEqual(b.Bias, a.Bias.Select(v => (double)(float)v).ToArray(), $"layer {l} bias");
        }
    }

    [TestMethod]
    public void HeaderValuesAreReadDespiteInconsistentTrailingCommas()
    {
        var m = NNetReader.Load(TestData.File("models", "HCAS_rect_v6_pra1_tau05_25HU_3000.nnet"));
        CollectionAssert.AreEqual(new[] { 25, 25, 25, 25, 25, 5 }, m.Network.Layers.Select(l => l.Outputs).ToArray());
        CollectionAssert.AreEqual(new[] { -56000.0, -56000.0, -3.141593 }, m.Minimums);
        CollectionAssert.AreEqual(new[] { 56000.0, 56000.0, 3.141593 }, m.Maximums);
        CollectionAssert.AreEqual(new[] { -278.628049, 0.0, 0.0, -0.242819 }, m.Means);
        CollectionAssert.AreEqual(new[] { 112000.0, 112000.0, 6.283185, 17.479225 }, m.Ranges);
        Assert.AreEqual(-0.432604, m.Network.Layers[0][0, 0]);
        Assert.IsNotNull(m.Network.Domain);
    }

    [TestMethod]
    [DataRow("HCAS_rect_v6_pra1_tau05_25HU_3000.nnet", "hcas-pra1-tau05.ionorm.onnx")]
    [DataRow("HCAS_rect_v6_pra1_tau20_25HU_3000.nnet", "hcas-pra1-tau20.ionorm.onnx")]
    public void NormalizedNetworkAgreesWithIonormOnnx(string nnet, string onnx)
    {
        var net = NNetReader.Load(TestData.File("models", nnet)).NormalizedNetwork();
        var twin = OnnxImporter.Load(TestData.File("models", onnx)).Network;
        var inputs = Inputs.RandomBox(1000, [-56000, -56000, -3.141593], [56000, 56000, 3.141593], 31);
        var a = net.EvaluateBatch(inputs);
        var b = twin.EvaluateBatch(inputs);
        double max = 0;
        for (int r = 0; r < inputs.Length; r++)
            for (int j = 0; j < net.OutputSize; j++) max = Math.Max(max, Math.Abs(a[r][j] - b[r][j]));
        TestContext.WriteLine($"{nnet} normalised (double) vs {onnx} (float32 weights, evaluated in double): max |diff| = {max:E3}");
        // The twin's weights are the folded double weights rounded to float32; 1e-5 absolute holds (PROVENANCE: 1.0e-5 / 4.6e-6).
        Assert.IsLessThanOrEqualTo(1e-5, max);
    }

    [TestMethod]
    public void BadValueIsRsr1010WithLineNumber()
    {
        var lines = File.ReadAllLines(TestData.File("models", "HCAS_rect_v6_pra1_tau05_25HU_3000.nnet"));
        lines[9] = "0.1,abc,0.3,";
        var e = Assert.ThrowsExactly<ReassureException>(() => NNetReader.Parse(lines, "bad.nnet"));
        Assert.AreEqual(ErrorCodes.NNetMalformed, e.Code);
        StringAssert.Contains(e.Message, "bad.nnet, line 10");
        StringAssert.Contains(e.Message, "abc");
    }

    [TestMethod]
    public void TruncatedFileIsRsr1010()
    {
        var lines = File.ReadAllLines(TestData.File("models", "HCAS_rect_v6_pra1_tau05_25HU_3000.nnet"));
        var e = Assert.ThrowsExactly<ReassureException>(() => NNetReader.Parse(lines[..100], "short.nnet"));
        Assert.AreEqual(ErrorCodes.NNetMalformed, e.Code);
        var e2 = Assert.ThrowsExactly<ReassureException>(() => NNetReader.Parse(lines.Select((l, i) => i == 4 ? "-56000,-56000" : l).ToArray(), "mins.nnet"));
        StringAssert.Contains(e2.Message, "line 5");
    }
}
