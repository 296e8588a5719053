using System.Globalization;
using Reassure.Formats.Onnx;
using Reassure.Networks;

namespace Reassure.Cli.Tests;

/// <summary>
/// `verify --rows` and `eval` with --gpu N. The CLI (and this test project) carry the CPU ONNX Runtime only, so the CUDA
/// provider is never there: RSR1080 (exit 2, no native exception), or with --fallback-to-cpu the CPU and one line on
/// stderr; without --gpu nothing changes.
/// </summary>
[TestClass]
public sealed class GpuCliTests
{
    private static (int Code, string Out, string Err) Run(params string[] args) => CliRunner.Run(args);

    /// <summary>2 -> 4 -> 3 ReLU network.</summary>
    private static Network Tiny() => new(
    [
        new DenseLayer(2, 4, [1, 0, 0, 1, 1, 1, 1, -1], [0, 0, -0.5, 0.2], relu: true),
        new DenseLayer(4, 3, [1, -1, 0.5, 0.2, -0.3, 1, -1, 0.4, 0.2, 0.1, 0.7, -1], [0.1, 0, -0.1], relu: false),
    ]);

    private sealed class Dir : IDisposable
    {
        public DirectoryInfo Info { get; } = Directory.CreateTempSubdirectory("reassure-gpu-");

        public string this[string name] => Path.Combine(Info.FullName, name);

        public void Dispose() => Info.Delete(recursive: true);
    }

    /// <summary>tiny.onnx and rows.csv: 12 points, each labelled with the network's own prediction (all pass).</summary>
    private static Dir Files()
    {
        var d = new Dir();
        var net = Tiny();
        OnnxExporter.Save(net, d["tiny.onnx"]);
        var lines = new List<string> { "x0,x1,label" };
        for (int i = 0; i < 12; i++)
        {
            var x = new[] { -1 + 0.17 * i, 0.9 - 0.15 * i };
            var y = net.Evaluate(x);
            lines.Add(string.Create(CultureInfo.InvariantCulture, $"{x[0]:R},{x[1]:R},{Array.IndexOf(y, y.Max())}"));
        }
        File.WriteAllLines(d["rows.csv"], lines);
        return d;
    }

    private static void AssertRSR1080(string verb, (int Code, string Out, string Err) r, string device)
    {
        Assert.AreEqual(2, r.Code, verb + ": " + r.Err + r.Out);
        StringAssert.Contains(r.Err, "RSR1080", verb);
        StringAssert.Contains(r.Err, "CUDAExecutionProvider", verb);
        StringAssert.Contains(r.Err, "device " + device, verb);
        StringAssert.Contains(r.Err, "Microsoft.ML.OnnxRuntime.Gpu", verb);
        StringAssert.Contains(r.Err, "--fallback-to-cpu", verb);
        Assert.DoesNotContain("error: ", r.Err, "no bare exception");
        Assert.DoesNotContain("Exception", r.Err, "no native exception");
        Assert.AreEqual("", r.Out, verb + ": no result without the GPU");
    }

    [TestMethod]
    public void WithoutCuda_NoFallback_IsRSR1080()
    {
        using var d = Files();
        AssertRSR1080("verify", Run("verify", "--model", d["tiny.onnx"], "--rows", d["rows.csv"], "--gpu", "0"), "0");
        AssertRSR1080("eval", Run("eval", "--model", d["tiny.onnx"], "--rows", d["rows.csv"], "--gpu", "2"), "2");
    }

    [TestMethod]
    public void WithoutCuda_FallbackToCpu_RunsOnCpuAndSaysSoOnce()
    {
        using var d = Files();
        var cpuVerify = Run("verify", "--model", d["tiny.onnx"], "--rows", d["rows.csv"]);
        var verify = Run("verify", "--model", d["tiny.onnx"], "--rows", d["rows.csv"], "--gpu", "0", "--fallback-to-cpu");
        Assert.AreEqual(0, verify.Code, verify.Err + verify.Out);
        Assert.AreEqual(cpuVerify.Out, verify.Out);
        var line = Assert.ContainsSingle(verify.Err.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        StringAssert.StartsWith(line, "warning: RSR1080");
        StringAssert.Contains(line, "CUDAExecutionProvider on CUDA device 0");
        StringAssert.Contains(line, "running on the CPU");

        var eval = Run("eval", "--model", d["tiny.onnx"], "--rows", d["rows.csv"], "--gpu", "0", "--fallback-to-cpu");
        Assert.AreEqual(0, eval.Code, eval.Err + eval.Out);
        StringAssert.Contains(eval.Out, "accuracy 1.0000 (12/12 rows get their label, ONNX Runtime float32)");
        Assert.ContainsSingle(eval.Err.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        StringAssert.StartsWith(eval.Err, "warning: RSR1080");
    }

    [TestMethod]
    public void WithoutGpu_NothingChanges()
    {
        using var d = Files();
        var verify = Run("verify", "--model", d["tiny.onnx"], "--rows", d["rows.csv"]);
        Assert.AreEqual(0, verify.Code, verify.Err);
        Assert.AreEqual("", verify.Err);
        var eval = Run("eval", "--model", d["tiny.onnx"], "--rows", d["rows.csv"]);
        Assert.AreEqual(0, eval.Code, eval.Err);
        Assert.AreEqual("", eval.Err);
        StringAssert.Contains(eval.Out, "accuracy 1.0000 (12/12 rows get their label)");
    }

    [TestMethod]
    [DataRow("verify", "--gpu", "-1")]
    [DataRow("eval", "--gpu", "-1")]
    [DataRow("verify", "--fallback-to-cpu", "")]
    [DataRow("eval", "--fallback-to-cpu", "")]
    public void BadGpuOptions_AreRSR1060(string verb, string option, string value)
    {
        using var d = Files();
        var args = new List<string> { verb, "--model", d["tiny.onnx"], "--rows", d["rows.csv"], option };
        if (value.Length > 0) args.Add(value);
        var r = Run([.. args]);
        Assert.AreEqual(2, r.Code, r.Err + r.Out);
        StringAssert.Contains(r.Err, "RSR1060");
    }

    [TestMethod]
    public void GpuWithVnnLibOrNNet_IsRSR1060()
    {
        using var d = Files();
        File.WriteAllText(d["p.vnnlib"], "(declare-const X_0 Real)\n(declare-const X_1 Real)\n(declare-const Y_0 Real)\n(declare-const Y_1 Real)\n(declare-const Y_2 Real)\n(assert (>= X_0 0))\n(assert (<= X_0 0.1))\n(assert (>= X_1 0))\n(assert (<= X_1 0.1))\n(assert (>= Y_0 Y_1))\n");
        var v = Run("verify", "--model", d["tiny.onnx"], "--vnnlib", d["p.vnnlib"], "--gpu", "0");
        Assert.AreEqual(2, v.Code, v.Err + v.Out);
        StringAssert.Contains(v.Err, "RSR1060");
    }
}
