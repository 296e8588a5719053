using System.Text.Json;
using Reassure.Repair;

namespace Reassure.Cli.Tests;

/// <summary>`reassure fair` on a subset of German Credit (tests/data/tabular): the first 40 test rows, Age (column 4) sensitive.</summary>
[TestClass]
public sealed class FairCliTests
{
    private static string Model => TestData.File("tabular", "german-credit-mlp.onnx");

    /// <summary>A temporary folder with rows.csv (header and the test file's rows [from, from + count)).</summary>
    private static DirectoryInfo Subset(int from, int count, string name = "rows.csv", DirectoryInfo? into = null)
    {
        var dir = into ?? Directory.CreateTempSubdirectory("reassure-fair-");
        var lines = File.ReadAllLines(TestData.File("tabular", "german-credit-test.csv"));
        File.WriteAllLines(Path.Combine(dir.FullName, name), lines.Take(1).Concat(lines.Skip(1 + from).Take(count)));
        return dir;
    }

    [TestMethod]
    public void Fair_GermanCredit40Rows_RepairsEveryUnfairRow_Proved_AndMeasuresEvalRows()
    {
        var dir = Subset(0, 40);
        Subset(40, 20, "eval.csv", dir);
        try
        {
            string P(string n) => Path.Combine(dir.FullName, n);
            var (code, output, error) = CliRunner.Run("fair", "--model", Model, "--rows", P("rows.csv"), "--sensitive", "4",
                "--out", P("fair.onnx"), "--json", P("fair.json"), "--eval-rows", P("eval.csv"));
            Assert.AreEqual(0, code, output + error);
            StringAssert.Contains(output, "unfair rows 6 -> 0 of 40 (proved)");
            using var doc = JsonDocument.Parse(File.ReadAllText(P("fair.json")));
            var root = doc.RootElement;
            Assert.AreEqual(40, root.GetProperty("rows").GetInt32());
            Assert.AreEqual(6, root.GetProperty("unfairBefore").GetInt32(), "rows 2, 6, 16, 29, 39 and 40 change their decision with age");
            Assert.AreEqual(0, root.GetProperty("unfairAfter").GetInt32());
            Assert.IsTrue(root.GetProperty("proved").GetBoolean());
            Assert.IsGreaterThan(0, root.GetProperty("patches").GetInt32());
            Assert.AreEqual(root.GetProperty("accuracyBefore").GetDouble(), root.GetProperty("accuracyAfter").GetDouble(),
                "the required decision is the one at the row, so no row's own decision moves");
            Assert.IsGreaterThanOrEqualTo(0.0, root.GetProperty("seconds").GetDouble());
            var eval = root.GetProperty("eval");
            Assert.AreEqual(20, eval.GetProperty("rows").GetInt32());
            foreach (var f in new[] { "unfairBefore", "unfairAfter", "accuracyBefore", "accuracyAfter" })
                Assert.AreEqual(JsonValueKind.Number, eval.GetProperty(f).ValueKind, f);
            // The paired write: ONNX, manifest carrying its hash, JSON; a repaired file is read back through the pair check.
            RepairManifest.CheckPair(P("fair.onnx"));
            using var manifest = JsonDocument.Parse(File.ReadAllText(P("fair.manifest.json")));
            Assert.AreEqual(RepairManifest.Sha256(File.ReadAllBytes(P("fair.onnx"))), manifest.RootElement.GetProperty("onnxSha256").GetString());
            // Independently of the proof: ONNX Runtime on the written file gives every unfair row's own decision at 201
            // ages (`verify --rows` checks each grid point's label in float32).
            var net = Formats.Onnx.OnnxImporter.Load(Model).Network;
            var rows = Formats.Rows.RowsCsv.Read(P("rows.csv"), net.InputSize, net.OutputSize);
            var grid = new List<string> { File.ReadLines(P("rows.csv")).First() };
            foreach (var el in manifest.RootElement.GetProperty("unfairRowsBefore").EnumerateArray())
            {
                var x = rows.Inputs[el.GetInt32() - 1].ToArray();
                var y = net.Evaluate(x);
                int decision = y[1] > y[0] ? 1 : 0;
                for (int k = 0; k <= 200; k++)
                {
                    x[4] = k / 200.0;
                    grid.Add(string.Join(",", x.Select(v => v.ToString("R", System.Globalization.CultureInfo.InvariantCulture))) + "," + decision);
                }
            }
            Assert.HasCount(1 + 6 * 201, grid);
            File.WriteAllLines(P("grid.csv"), grid);
            var ort = CliRunner.Run("verify", "--model", P("fair.onnx"), "--rows", P("grid.csv"));
            Assert.AreEqual(0, ort.Code, ort.Out + ort.Err);
            var before = CliRunner.Run("verify", "--model", Model, "--rows", P("grid.csv"));
            Assert.AreEqual(1, before.Code, "the original model changes some of those decisions with age");
            var again = CliRunner.Run("fair", "--model", P("fair.onnx"), "--rows", P("rows.csv"), "--sensitive", "4", "--out", P("again.onnx"));
            Assert.AreEqual(2, again.Code);
            StringAssert.Contains(again.Err, ErrorCodes.RepairedModelUnsupported);
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    [TestMethod]
    [DataRow("61", "RSR1056")]
    [DataRow("-1", "RSR1056")]
    [DataRow("4,age", "RSR1056")]
    [DataRow("4,4", "RSR1056")]
    public void BadSensitive_IsExit2_NothingWritten(string sensitive, string expected)
    {
        var dir = Subset(0, 5);
        try
        {
            string P(string n) => Path.Combine(dir.FullName, n);
            var (code, _, error) = CliRunner.Run("fair", "--model", Model, "--rows", P("rows.csv"), "--sensitive", sensitive, "--out", P("fair.onnx"), "--json", P("fair.json"));
            Assert.AreEqual(2, code, error);
            StringAssert.StartsWith(error, expected);
            CollectionAssert.AreEqual(new[] { "rows.csv" }, dir.GetFiles().Select(f => f.Name).ToArray());
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    [TestMethod]
    [DataRow("1:0")]
    [DataRow("0:x")]
    [DataRow("0:1 0:1")]
    public void BadDomain_IsExit2(string domain)
    {
        var dir = Subset(0, 5);
        try
        {
            string P(string n) => Path.Combine(dir.FullName, n);
            var args = new List<string> { "fair", "--model", Model, "--rows", P("rows.csv"), "--sensitive", "4", "--out", P("fair.onnx"), "--domain" };
            args.AddRange(domain.Split(' '));
            var (code, _, error) = CliRunner.Run([.. args]);
            Assert.AreEqual(2, code, error);
            StringAssert.StartsWith(error, "RSR1057");
            Assert.IsFalse(File.Exists(P("fair.onnx")));
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }
}
