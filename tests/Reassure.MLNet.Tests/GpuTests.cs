using Microsoft.ML;
using Microsoft.ML.Data;
using Reassure.Repair;

namespace Reassure.MLNet.Tests;

/// <summary>
/// GPU inference is opt-in (<see cref="RepairEstimatorOptions.GpuDeviceId"/>). This test project, like every CPU user,
/// references the CPU Microsoft.ML.OnnxRuntime only, so the CUDA provider is never there: these tests pin what happens
/// without it (the fallback and the coded error), on any machine, and that the CPU path does not change.
/// </summary>
[TestClass]
public sealed class GpuTests
{
    private sealed class Row
    {
        [VectorType(784)]
        public float[] Features { get; set; } = [];

        public int Label { get; set; }
    }

    private sealed class Scored
    {
        public float[] Score { get; set; } = [];
    }

    private sealed class Recorder : IProgress<RepairProgress>
    {
        public int Calls;
        public void Report(RepairProgress value) => Interlocked.Increment(ref Calls);
    }

    private static IDataView Data(MLContext ml)
    {
        var (images, labels) = TestData.Mnist;
        return ml.Data.LoadFromEnumerable(Enumerable.Range(0, 60).Select(i => new Row { Features = images[i], Label = labels[i] }).ToList());
    }

    private static RepairEstimatorOptions Options(int? gpu = null, bool fallback = false, IProgress<RepairProgress>? progress = null) => new()
    {
        ModelPath = TestData.MnistModel,
        GpuDeviceId = gpu,
        FallbackToCpu = fallback,
        Progress = progress,
    };

    private static float[][] Scores(MLContext ml, ITransformer model, IDataView data) =>
        ml.Data.CreateEnumerable<Scored>(model.Transform(data), reuseRowObject: false).Select(s => s.Score).ToArray();

    [TestMethod]
    public void CpuPath_NoDeviceId_NoWarningAndRunsOnCpu()
    {
        var ml = new MLContext(seed: 1);
        var model = ml.Repair(Options()).Fit(Data(ml));
        Assert.IsEmpty(model.Report.Warnings);
        Assert.AreEqual("CPU", model.Report.ExecutionProvider);
        Assert.DoesNotContain("warning", model.Report.ToString());
    }

    [TestMethod]
    public void WithoutCuda_FallbackToCpu_RunsOnCpuAndWarnsOnce()
    {
        var ml = new MLContext(seed: 1);
        var data = Data(ml);
        var cpu = ml.Repair(Options()).Fit(data);
        var gpu = ml.Repair(Options(gpu: 0, fallback: true)).Fit(data);

        var warning = Assert.ContainsSingle(gpu.Report.Warnings);
        StringAssert.Contains(warning, "RSR1080");
        StringAssert.Contains(warning, "CUDAExecutionProvider");
        StringAssert.Contains(warning, "device 0");
        StringAssert.Contains(warning, "running on the CPU");
        Assert.AreEqual("CPU", gpu.Report.ExecutionProvider);
        Assert.AreEqual(1, gpu.Report.ToString().Split('\n').Count(l => l.Contains("RSR1080", StringComparison.Ordinal)));
        // The same repaired graph, scored on the CPU: the same scores as the CPU path, and the fit rows fixed.
        Assert.IsTrue(gpu.Report.AllFixed);
        var a = Scores(ml, cpu, data);
        var b = Scores(ml, gpu, data);
        Assert.HasCount(a.Length, b);
        for (int i = 0; i < a.Length; i++) CollectionAssert.AreEqual(a[i], b[i], $"row {i}");
    }

    [TestMethod]
    public void WithoutCuda_NoFallback_IsRSR1080BeforeTheRepair()
    {
        var ml = new MLContext(seed: 1);
        var progress = new Recorder();
        var e = Assert.ThrowsExactly<ReassureException>(() => ml.Repair(Options(gpu: 1, progress: progress)).Fit(Data(ml)));
        Assert.AreEqual(ErrorCodes.GpuProviderUnavailable, e.Code);
        Assert.AreEqual("RSR1080", e.Code);
        StringAssert.Contains(e.Message, "CUDAExecutionProvider");
        StringAssert.Contains(e.Message, "device 1");
        StringAssert.Contains(e.Message, "Microsoft.ML.OnnxRuntime.Gpu");
        StringAssert.Contains(e.Message, "FallbackToCpu");
        Assert.AreEqual("GpuDeviceId", e.Location);
        Assert.AreEqual(0, progress.Calls, "the provider is checked before the repair starts");
    }

    [TestMethod]
    public void WithoutCuda_MLContextDevice_IsHonoured()
    {
        // ML.NET's own switch: MLContext.GpuDeviceId applies when the options leave GpuDeviceId null.
        var ml = new MLContext(seed: 1) { GpuDeviceId = 0 };
        var e = Assert.ThrowsExactly<ReassureException>(() => ml.Repair(Options()).Fit(Data(ml)));
        Assert.AreEqual("RSR1080", e.Code);

        ml.FallbackToCpu = true;
        var model = ml.Repair(Options()).Fit(Data(ml));
        Assert.ContainsSingle(model.Report.Warnings);
        Assert.AreEqual("CPU", model.Report.ExecutionProvider);
        Assert.IsTrue(model.Report.AllFixed);
    }

    [TestMethod]
    public void NegativeDeviceId_IsRSR1060()
    {
        var ml = new MLContext(seed: 1);
        var e = Assert.ThrowsExactly<ReassureException>(() => ml.Repair(Options(gpu: -1, fallback: true)).Fit(Data(ml)));
        Assert.AreEqual(ErrorCodes.InvalidOption, e.Code);
    }
}
