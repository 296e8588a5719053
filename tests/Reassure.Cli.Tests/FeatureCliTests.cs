using System.Text.Json;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using Reassure.Formats.Mnist;
using Reassure.Formats.Onnx;
using Reassure.Formats.Onnx.Proto;
using Reassure.Formats.Rows;
using Reassure.Specifications;

namespace Reassure.Cli.Tests;

/// <summary>`repair --layer` (feature-space repair, method.md §13) and `inspect`'s tensor list.</summary>
[TestClass]
public sealed class FeatureCliTests
{
    private static string MnistModel => TestData.File("models", "reassure-mnist-256x256.onnx");

    private static (int Code, string Out, string Err) Run(params string[] args) => CliRunner.Run(args);

    [TestMethod]
    public void Inspect_ListsTheTensorsRepairLayerCanCutAt()
    {
        var (code, output, error) = Run("inspect", "--model", MnistModel);
        Assert.AreEqual(0, code, error);
        StringAssert.Contains(output, "Tensors (repair --layer NAME):");
        var lines = output.Split('\n');
        // gemm_0 is computed before any Relu: listed, refused; relu_0 can be cut with 256 ReLUs after it.
        Assert.IsTrue(lines.Any(l => l.Contains("gemm_0", StringComparison.Ordinal) && l.Contains("RSR1058", StringComparison.Ordinal)), output);
        Assert.IsTrue(lines.Any(l => l.Contains("relu_0", StringComparison.Ordinal) && l.Contains("256", StringComparison.Ordinal) && l.Contains("yes", StringComparison.Ordinal)), output);
    }

    [TestMethod]
    public void RepairLayer_FixesEveryRowInTheWrittenGraph_AndRecordsTheTensor()
    {
        const int n = 1000;
        var images = MnistIdx.ReadImages(TestData.File("mnist", "t10k-images-idx3-ubyte.gz"), n);
        var labels = MnistIdx.ReadLabels(TestData.File("mnist", "t10k-labels-idx1-ubyte.gz"), n);
        var net = OnnxImporter.Load(MnistModel).Network;
        var wrong = Enumerable.Range(0, n).Where(i => Reassure.Repair.Prediction.Of(net.Evaluate(images[i])) != labels[i]).Take(5).ToList();
        var dir = Directory.CreateTempSubdirectory("reassure-cli-");
        try
        {
            var rows = Path.Combine(dir.FullName, "wrong.csv");
            RowsCsv.Write(rows, new RowSet(wrong.Select(i => images[i]).ToArray(), wrong.Select(i => labels[i]).ToArray(), "wrong"));
            var outPath = Path.Combine(dir.FullName, "repaired.onnx");
            var (code, output, error) = Run("repair", "--model", MnistModel, "--rows", rows, "--out", outPath, "--layer", "relu_0", "--json", "-");
            Assert.AreEqual(0, code, error);
            using var doc = JsonDocument.Parse(output);
            Assert.AreEqual(5, doc.RootElement.GetProperty("fixed").GetInt32());
            Assert.AreEqual("relu_0", doc.RootElement.GetProperty("layer").GetString());
            Assert.AreEqual(doc.RootElement.GetProperty("patches").GetInt32(), doc.RootElement.GetProperty("verified").GetInt32());
            var bytes = File.ReadAllBytes(outPath);
            Assert.AreEqual("relu_0", ModelProto.Parser.ParseFrom(bytes).MetadataProps.Single(p => p.Key == FeatureOnnxExporter.LayerKey).Value);
            Assert.IsTrue(File.Exists(Path.Combine(dir.FullName, "repaired.manifest.json")));
            // The written graph, run by ONNX Runtime on the rows and on the first 200 test images.
            using var session = new InferenceSession(bytes);
            using var original = new InferenceSession(File.ReadAllBytes(MnistModel));
            for (int r = 0; r < wrong.Count; r++)
                Assert.AreEqual(labels[wrong[r]], ArgMax(session, images[wrong[r]]), $"row {r + 1} in ONNX Runtime");
            int same = 0;
            for (int i = 0; i < 200; i++)
            {
                if (wrong.Contains(i)) continue;
                var a = Outputs(session, images[i]);
                var b = Outputs(original, images[i]);
                if (a.Zip(b).All(t => BitConverter.SingleToInt32Bits(t.First) == BitConverter.SingleToInt32Bits(t.Second))) same++;
            }
            Assert.IsTrue(same >= 190, $"{same} of the other test images keep their float32 outputs bit for bit");
            // The command the refusal below points to runs the file and confirms every row; eval refuses it with a code.
            var verified = Run("verify", "--model", outPath, "--rows", rows);
            Assert.AreEqual(0, verified.Code, verified.Err + verified.Out);
            var evaluated = Run("eval", "--model", outPath, "--rows", rows);
            Assert.AreEqual(2, evaluated.Code, evaluated.Err);
            StringAssert.Contains(evaluated.Err, ErrorCodes.RepairedModelUnsupported);
            StringAssert.Contains(evaluated.Err, "reassure verify --model FILE --rows");
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    [TestMethod]
    public void RepairLayer_BadOptions_ExitTwo_NothingWritten()
    {
        var dir = Directory.CreateTempSubdirectory("reassure-cli-");
        try
        {
            var images = MnistIdx.ReadImages(TestData.File("mnist", "t10k-images-idx3-ubyte.gz"), 1);
            var rows = Path.Combine(dir.FullName, "one.csv");
            RowsCsv.Write(rows, new RowSet(images, [3], "one"));
            var outPath = Path.Combine(dir.FullName, "r.onnx");
            (string[] Args, string Code)[] cases =
            [
                (["--layer", "no_such_tensor"], "RSR1053"),
                (["--layer", "gemm_0"], "RSR1058"),
                (["--feature-box", "0:1"], "RSR1060"),
                (["--layer", "relu_0", "--feature-box", "1:0"], "RSR1060"),
                (["--layer", "relu_0", "--feature-box", "zero:1"], "RSR1060"),
            ];
            foreach (var (extra, expected) in cases)
            {
                var (code, _, error) = Run(["repair", "--model", MnistModel, "--rows", rows, "--out", outPath, .. extra]);
                Assert.AreEqual(2, code, $"{string.Join(' ', extra)}: {error}");
                StringAssert.Contains(error, expected, string.Join(' ', extra));
                Assert.IsFalse(File.Exists(outPath));
            }
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    private static float[] Outputs(InferenceSession session, double[] x)
    {
        var tensor = new DenseTensor<float>(x.Select(v => (float)v).ToArray(), [1, x.Length]);
        using var results = session.Run([NamedOnnxValue.CreateFromTensor(session.InputMetadata.Keys.Single(), tensor)]);
        return results.First().AsTensor<float>().ToArray();
    }

    private static int ArgMax(InferenceSession session, double[] x)
    {
        var y = Outputs(session, x);
        return Array.IndexOf(y, y.Max());
    }
}
