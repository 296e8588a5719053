using Reassure.Formats.NNet;
using Reassure.Formats.Onnx;
using Reassure.Networks;

namespace Reassure.Tests.Formats;

[TestClass]
public sealed class OnnxExportTests
{
    private static void AssertSameWeightsAsFloat32(Network expected, Network actual)
    {
        Assert.HasCount(expected.Layers.Count, actual.Layers);
        for (int l = 0; l < expected.Layers.Count; l++)
        {
            var (e, a) = (expected.Layers[l], actual.Layers[l]);
            Assert.AreEqual(e.Inputs, a.Inputs);
            Assert.AreEqual(e.Outputs, a.Outputs);
            Assert.AreEqual(e.Relu, a.Relu);
            for (int i = 0; i < e.Weights.Length; i++)
                if ((float)e.Weights[i] != (float)a.Weights[i]) Assert.Fail($"layer {l} weight {i}: {e.Weights[i]:R} vs {a.Weights[i]:R}");
            for (int i = 0; i < e.Bias.Length; i++)
                if ((float)e.Bias[i] != (float)a.Bias[i]) Assert.Fail($"layer {l} bias {i}: {e.Bias[i]:R} vs {a.Bias[i]:R}");
        }
    }

    [TestMethod]
    public void MnistRoundTripKeepsWeightsNamesAndFacts()
    {
        var original = OnnxImporter.Load(TestData.File("models", "reassure-mnist-256x256.onnx")).Network;
        var back = OnnxImporter.Load(OnnxExporter.ToBytes(original), "export.onnx");
        AssertSameWeightsAsFloat32(original, back.Network);
        Assert.AreEqual(13, back.OpsetVersion);
        Assert.AreEqual(7, back.IrVersion);
        Assert.AreEqual("N,784", back.InputShape);
        Assert.AreEqual("N,10", back.OutputShape);
        Assert.AreEqual(original.InputName, back.InputName);
        Assert.AreEqual(original.OutputName, back.OutputName);
        CollectionAssert.AreEqual(original.Layers.Select(l => l.Names).ToArray(), back.Network.Layers.Select(l => l.Names).ToArray());
    }

    [TestMethod]
    public void AcasRoundTripFromMatMulLayoutKeepsWeights()
    {
        var original = OnnxImporter.Load(TestData.File("vnncomp", "acasxu", "ACASXU_run2a_2_9_batch_2000.onnx")).Network;
        var back = OnnxImporter.Load(OnnxExporter.ToBytes(original), "acas-export.onnx").Network;
        AssertSameWeightsAsFloat32(original, back);
        Assert.AreEqual("input", back.InputName);
        Assert.AreEqual("linear_7_Add", back.OutputName);
    }

    [TestMethod]
    public void ExportedFileRunsInOnnxRuntimeWithABatchAndMatchesCore()
    {
        // The normalised HCAS network has weights that are not float32 yet: the export rounds them.
        var net = NNetReader.Load(TestData.File("models", "HCAS_rect_v6_pra1_tau05_25HU_3000.nnet")).NormalizedNetwork();
        var dir = Directory.CreateTempSubdirectory("reassure-export-");
        try
        {
            var path = Path.Combine(dir.FullName, "hcas.onnx");
            OnnxExporter.Save(net, path);
            Assert.IsTrue(File.Exists(path));
            Assert.HasCount(1, dir.GetFiles(), "no temporary file is left behind");
            var inputs = Inputs.RandomBox(7, [-56000, -56000, -3.141593], [56000, 56000, 3.141593], 21);
            var ort = OrtRunner.Run(File.ReadAllBytes(path), inputs); // one call, batch of 7
            var reread = OnnxImporter.Load(path).Network;
            var core = reread.EvaluateBatch(inputs);
            var coreOriginal = net.EvaluateBatch(inputs);
            for (int r = 0; r < inputs.Length; r++)
                for (int j = 0; j < net.OutputSize; j++)
                {
                    Assert.AreEqual(core[r][j], ort[r][j], 1e-4, $"row {r} output {j}: exported file in ORT vs Core");
                    Assert.AreEqual(coreOriginal[r][j], ort[r][j], 1e-3, $"row {r} output {j}: float32 rounding of the export");
                }
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    [TestMethod]
    public void ExportedMnistRunsBatchedInOnnxRuntime()
    {
        var net = OnnxImporter.Load(TestData.File("vnncomp", "mnistfc", "mnist-net_256x2.onnx")).Network; // batch 1 only in its own file
        var bytes = OnnxExporter.ToBytes(net);
        var inputs = Inputs.MnistImages[..32];
        var ort = OrtRunner.Run(bytes, inputs);
        var core = net.EvaluateBatch(inputs);
        for (int r = 0; r < inputs.Length; r++)
            for (int j = 0; j < 10; j++)
                Assert.AreEqual(core[r][j], ort[r][j], 1e-4);
    }
}
