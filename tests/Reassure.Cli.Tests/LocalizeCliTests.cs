using System.Text.Json;
using Reassure.Formats.Mnist;
using Reassure.Formats.Onnx;
using Reassure.Formats.Rows;
using Reassure.Specifications;

namespace Reassure.Cli.Tests;

/// <summary>`reassure localize`: ranking per layer on stdout, --json FILE and -, --report, --layer, RSR1053, repaired files.</summary>
[TestClass]
public sealed class LocalizeCliTests
{
    private static string MnistModel => TestData.File("models", "reassure-mnist-256x256.onnx");

    private static (int Code, string Out, string Err) Run(params string[] args) => CliRunner.Run(args);

    /// <summary>The first <paramref name="count"/> misclassified MNIST test images as a rows CSV.</summary>
    private static string MisclassifiedRows(DirectoryInfo dir, int count)
    {
        const int n = 2000;
        var images = MnistIdx.ReadImages(TestData.File("mnist", "t10k-images-idx3-ubyte.gz"), n);
        var labels = MnistIdx.ReadLabels(TestData.File("mnist", "t10k-labels-idx1-ubyte.gz"), n);
        var net = OnnxImporter.Load(MnistModel).Network;
        var wrong = Enumerable.Range(0, n).Where(i => Reassure.Repair.Prediction.Of(net.Evaluate(images[i])) != labels[i]).Take(count).ToArray();
        Assert.HasCount(count, wrong);
        var path = Path.Combine(dir.FullName, "wrong.csv");
        RowsCsv.Write(path, new RowSet(wrong.Select(i => images[i]).ToArray(), wrong.Select(i => labels[i]).ToArray(), "wrong"));
        return path;
    }

    [TestMethod]
    public void LocalizeMnist_PrintsRankingPerLayer_WritesJsonAndReport()
    {
        var dir = Directory.CreateTempSubdirectory("reassure-cli-");
        try
        {
            var rows = MisclassifiedRows(dir, 30);
            var json = Path.Combine(dir.FullName, "loc.json");
            var report = Path.Combine(dir.FullName, "loc.html");
            var (code, output, error) = Run("localize", "--model", MnistModel, "--rows", rows, "--top", "5", "--json", json, "--report", report);
            Assert.AreEqual(0, code, error);
            StringAssert.StartsWith(output, "localized 512 neurons over 30 rows (16 grid values each)");
            StringAssert.Contains(output, "layer 0: relu_0 (256 neurons), top 5");
            StringAssert.Contains(output, "layer 1: relu_1 (256 neurons), top 5");
            StringAssert.Contains(output, "effect");
            using var doc = JsonDocument.Parse(File.ReadAllText(json));
            var root = doc.RootElement;
            Assert.AreEqual(30, root.GetProperty("rows").GetInt32());
            Assert.AreEqual(2, root.GetProperty("layers").GetArrayLength());
            var layer0 = root.GetProperty("layers")[0];
            Assert.AreEqual(256, layer0.GetProperty("effects").GetArrayLength());
            var ranking = layer0.GetProperty("ranking");
            Assert.AreEqual(5, ranking.GetArrayLength());
            Assert.AreEqual(16, ranking[0].GetProperty("meanMargins").GetArrayLength());
            int topNeuron = ranking[0].GetProperty("neuron").GetInt32();
            double topEffect = ranking[0].GetProperty("effect").GetDouble();
            Assert.AreEqual(layer0.GetProperty("effects").EnumerateArray().Max(e => e.GetDouble()), topEffect);
            Assert.AreEqual(topEffect, layer0.GetProperty("effects")[topNeuron].GetDouble());
            var html = File.ReadAllText(report);
            StringAssert.Contains(html, "<svg");
            StringAssert.Contains(html, "relu_0");

            // --json -: the machine summary on stdout; --layer by tensor name: that layer only.
            var piped = Run("localize", "--model", MnistModel, "--rows", rows, "--layer", "relu_1", "--top", "3", "--json", "-");
            Assert.AreEqual(0, piped.Code, piped.Err);
            using var one = JsonDocument.Parse(piped.Out);
            Assert.AreEqual(1, one.RootElement.GetProperty("layers").GetArrayLength());
            Assert.AreEqual(1, one.RootElement.GetProperty("layers")[0].GetProperty("index").GetInt32());
            Assert.AreEqual(root.GetProperty("layers")[1].GetProperty("ranking")[0].GetProperty("effect").GetDouble(),
                one.RootElement.GetProperty("layers")[0].GetProperty("ranking")[0].GetProperty("effect").GetDouble());

            // A repaired file: localized on the original network inside it, same figures, and it says so.
            var repaired = Path.Combine(dir.FullName, "r.onnx");
            var first = Path.Combine(dir.FullName, "first.csv");
            File.WriteAllLines(first, File.ReadAllLines(rows).Take(2)); // the header and the first row
            var repair = Run("repair", "--model", MnistModel, "--rows", first, "--out", repaired);
            Assert.AreEqual(0, repair.Code, repair.Err + repair.Out);
            var onRepaired = Run("localize", "--model", repaired, "--rows", rows, "--layer", "relu_1", "--top", "3", "--json", "-");
            Assert.AreEqual(0, onRepaired.Code, onRepaired.Err);
            using var r = JsonDocument.Parse(onRepaired.Out);
            StringAssert.StartsWith(r.RootElement.GetProperty("network").GetString(), "original");
            Assert.AreEqual(one.RootElement.GetProperty("layers")[0].GetProperty("effects").ToString(), r.RootElement.GetProperty("layers")[0].GetProperty("effects").ToString());
            var human = Run("localize", "--model", repaired, "--rows", rows, "--layer", "relu_1", "--top", "1");
            StringAssert.Contains(human.Out, "repaired file: localized on the original network inside it");
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    [TestMethod]
    public void UnknownLayerIsRsr1053_ExitTwo_ListingTheHiddenLayers_BadOptionIsRsr1060()
    {
        var dir = Directory.CreateTempSubdirectory("reassure-cli-");
        try
        {
            var rows = Path.Combine(dir.FullName, "rows.csv");
            File.WriteAllText(rows, string.Join(",", Enumerable.Repeat("0", 784)) + ",3\n");
            var (code, output, error) = Run("localize", "--model", MnistModel, "--rows", rows, "--layer", "dense_7");
            Assert.AreEqual(2, code, output);
            StringAssert.StartsWith(error, "RSR1053: layer 'dense_7': is not a hidden layer of the network; hidden layers: 0: 'relu_0'");
            StringAssert.Contains(error, "'relu_1'");
            var grid = Run("localize", "--model", MnistModel, "--rows", rows, "--grid", "1");
            Assert.AreEqual(2, grid.Code);
            StringAssert.Contains(grid.Err, "RSR1060: --grid");
            var same = Run("localize", "--model", MnistModel, "--rows", rows, "--json", rows);
            Assert.AreEqual(2, same.Code);
            StringAssert.Contains(same.Err, "RSR1070");
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }
}
