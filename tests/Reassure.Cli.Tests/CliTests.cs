using System.Text.Json;
using Reassure.Formats.Mnist;
using Reassure.Formats.Onnx;
using Reassure.Formats.Rows;
using Reassure.Tests;

namespace Reassure.Cli.Tests;

[TestClass]
public sealed class CliTests
{
    private static string MnistModel => TestData.File("models", "reassure-mnist-256x256.onnx");

    private static (int Code, string Out, string Err) Run(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        int code = ReassureCli.Run(args, output, error);
        return (code, output.ToString(), error.ToString());
    }

    private static DirectoryInfo TempDir() => Directory.CreateTempSubdirectory("reassure-cli-");

    [TestMethod]
    public void InspectShowsLayersAndParameterCount()
    {
        var (code, output, error) = Run("inspect", "--model", MnistModel);
        Assert.AreEqual(0, code, error);
        StringAssert.Contains(output, "Architecture: 784/256/256/10");
        StringAssert.Contains(output, "Parameters: 269322");
        StringAssert.Contains(output, "layers.1.weight");
        StringAssert.Contains(output, "Input: input [N,784]");
        StringAssert.Contains(output, "opset 13");
    }

    [TestMethod]
    public void InspectReadsNNet()
    {
        var (code, output, error) = Run("inspect", "--model", TestData.File("models", "HCAS_rect_v6_pra1_tau05_25HU_3000.nnet"));
        Assert.AreEqual(0, code, error);
        StringAssert.Contains(output, "Architecture: 3/25/25/25/25/25/5");
    }

    [TestMethod]
    public void EvalGivesTheCoreAccuracyAndWritesJson()
    {
        const int n = 300;
        var images = MnistIdx.ReadImages(TestData.File("mnist", "t10k-images-idx3-ubyte.gz"), n);
        var labels = MnistIdx.ReadLabels(TestData.File("mnist", "t10k-labels-idx1-ubyte.gz"), n);
        var net = OnnxImporter.Load(MnistModel).Network;
        int correct = net.EvaluateBatch(images).Where((y, i) => Array.IndexOf(y, y.Max()) == labels[i]).Count();
        var dir = TempDir();
        try
        {
            var rows = Path.Combine(dir.FullName, "mnist300.csv");
            RowsCsv.Write(rows, new RowSet(images, labels, "mnist"));
            var json = Path.Combine(dir.FullName, "out", "eval.json");
            var (code, output, error) = Run("eval", "--model", MnistModel, "--rows", rows, "--json", json);
            Assert.AreEqual(0, code, error);
            foreach (var text in new[] { output, File.ReadAllText(json) })
            {
                using var doc = JsonDocument.Parse(text);
                Assert.AreEqual(n, doc.RootElement.GetProperty("rows").GetInt32());
                Assert.AreEqual((double)correct / n, doc.RootElement.GetProperty("accuracy").GetDouble());
            }
            Assert.IsGreaterThan(0.9, (double)correct / n);
            var (code2, output2, _) = Run("eval", "--model", MnistModel, "--rows", rows, "--argmin");
            Assert.AreEqual(0, code2);
            using var argmin = JsonDocument.Parse(output2);
            Assert.IsLessThan(0.1, argmin.RootElement.GetProperty("accuracy").GetDouble(), "argmin picks the least likely digit");
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    [TestMethod]
    public void BadRowsFileExitsTwoWithRsr1020()
    {
        var dir = TempDir();
        try
        {
            var rows = Path.Combine(dir.FullName, "bad.csv");
            File.WriteAllText(rows, "1,2,3,0\n");
            var (code, output, error) = Run("eval", "--model", MnistModel, "--rows", rows);
            Assert.AreEqual(2, code);
            StringAssert.StartsWith(error, "RSR1020: bad.csv, line 1");
            Assert.AreEqual("", output);
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    [TestMethod]
    public void MissingModelAndMissingOptionExitTwo()
    {
        var (code, _, error) = Run("inspect", "--model", Path.Combine(Path.GetTempPath(), $"none-{Guid.NewGuid():N}.onnx"));
        Assert.AreEqual(2, code);
        StringAssert.StartsWith(error, "RSR1001");
        var (code2, _, error2) = Run("eval", "--model", MnistModel);
        Assert.AreEqual(2, code2);
        StringAssert.Contains(error2, "--rows");
    }
}
