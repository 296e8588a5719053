using System.Text.Json;
using Reassure.Formats.Onnx;
using Reassure.Formats.Rows;
using Reassure.Specifications;

namespace Reassure.Cli.Tests;

/// <summary><c>repair --avoid</c>: the label column is the label to avoid (method.md §10).</summary>
[TestClass]
public sealed class AvoidCliTests
{
    private static (int Code, string Out, string Err) Run(params string[] args) => CliRunner.Run(args);

    [TestMethod]
    public void RepairAvoid_WatermarkSubset_TheFileNoLongerPredictsTheAvoidedLabels()
    {
        var model = TestData.File("models", "reassure-watermark-150.onnx");
        var net = OnnxImporter.Load(model).Network;
        var all = RowsCsv.Read(TestData.File("models", "watermark.csv"), net.InputSize, net.OutputSize);
        const int n = 8;
        var dir = Directory.CreateTempSubdirectory("reassure-cli-avoid-");
        try
        {
            var rows = Path.Combine(dir.FullName, "wm.csv");
            RowsCsv.Write(rows, new RowSet(all.Inputs[..n], all.Labels[..n], "wm.csv"));
            var outPath = Path.Combine(dir.FullName, "r.onnx");
            var repair = Run("repair", "--model", model, "--rows", rows, "--out", outPath, "--avoid", "--avoid-target", "previous", "--json", "-");
            Assert.AreEqual(0, repair.Code, repair.Err + repair.Out);
            using (var doc = JsonDocument.Parse(repair.Out))
            {
                Assert.AreEqual(n, doc.RootElement.GetProperty("fixed").GetInt32());
                Assert.AreEqual("previous", doc.RootElement.GetProperty("avoid").GetProperty("target").GetString());
                Assert.AreEqual(0, doc.RootElement.GetProperty("avoid").GetProperty("alreadyAvoided").GetInt32());
                Assert.AreEqual(doc.RootElement.GetProperty("patches").GetInt32(), doc.RootElement.GetProperty("verified").GetInt32());
            }

            // The rows' labels are the avoided ones: on the repaired file none of them may win, in double (eval) and in
            // ONNX Runtime float32 on the file (verify --rows).
            var eval = Run("eval", "--model", outPath, "--rows", rows, "--json", "-");
            Assert.AreEqual(0, eval.Code, eval.Err);
            using (var doc = JsonDocument.Parse(eval.Out)) Assert.AreEqual(0.0, doc.RootElement.GetProperty("accuracy").GetDouble());
            var verify = Run("verify", "--model", outPath, "--rows", rows, "--json", "-");
            using (var doc = JsonDocument.Parse(verify.Out)) Assert.AreEqual(0, doc.RootElement.GetProperty("passed").GetInt32(), verify.Out);

            // The targets (k - 1 + 10) mod 10 win.
            var targets = Path.Combine(dir.FullName, "targets.csv");
            RowsCsv.Write(targets, new RowSet(all.Inputs[..n], all.Labels[..n].Select(k => (k + 9) % 10).ToArray(), "targets.csv"));
            var verifyTargets = Run("verify", "--model", outPath, "--rows", targets, "--json", "-");
            using (var doc = JsonDocument.Parse(verifyTargets.Out)) Assert.AreEqual(n, doc.RootElement.GetProperty("passed").GetInt32(), verifyTargets.Out);
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    [TestMethod]
    public void RepairAvoidTarget_BadValue_IsAUsageError_AndWithoutAvoidIsRsr1060()
    {
        var model = TestData.File("models", "reassure-watermark-150.onnx");
        var rows = TestData.File("models", "watermark.csv");
        var dir = Directory.CreateTempSubdirectory("reassure-cli-avoid-");
        try
        {
            var outPath = Path.Combine(dir.FullName, "r.onnx");
            var bad = Run("repair", "--model", model, "--rows", rows, "--out", outPath, "--avoid", "--avoid-target", "next");
            Assert.AreEqual(2, bad.Code, bad.Err + bad.Out);
            StringAssert.Contains(bad.Err, "next");
            var alone = Run("repair", "--model", model, "--rows", rows, "--out", outPath, "--avoid-target", "best-other");
            Assert.AreEqual(2, alone.Code, alone.Err + alone.Out);
            StringAssert.Contains(alone.Err, ErrorCodes.InvalidOption);
            Assert.IsFalse(File.Exists(outPath));
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }
}
