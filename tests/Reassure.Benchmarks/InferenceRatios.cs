using System.Diagnostics;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using Reassure.Networks;
using Reassure.Patching;

namespace Reassure.Benchmarks;

/// <summary>
/// Inference cost of the repaired model against the original, measured in the same process, interleaved:
/// each round times the original then the repaired on the same inputs, and the reported time is the median over
/// rounds (so a burst of load from other processes hits both sides). Single image: cycles through test images
/// (most outside every support, as in use). Batch: 1024 test images per call.
/// </summary>
internal static class InferenceRatios
{
    public sealed record Figures(double OrtSingleOriginalUs, double OrtSingleRepairedUs, double OrtBatchOriginalMs, double OrtBatchRepairedMs,
        double CoreSingleOriginalUs, double CoreSingleRepairedUs, double CoreBatchOriginalMs, double CoreBatchRepairedMs,
        double OrtSingleLeanUs, double OrtBatchLeanMs,
        double OrtSingle, double OrtBatch, double CoreSingle, double CoreBatch, double OrtSingleLean, double OrtBatchLean);

    public static Figures Measure(byte[] originalOnnx, byte[] repairedOnnx, string inputName, Network original, RepairedNetwork repaired, double[][] images, byte[]? leanOnnx = null, int rounds = 7)
    {
        int n = original.InputSize;
        const int batch = 1024;
        const int singles = 256;
        // Batches: one session alive at a time, on the default pool (see BatchAlone).
        // Single images: one intra-op thread (per-request serving; a 2-thread pool on a loaded 2-core machine only adds noise).
        using var so1 = new SessionOptions { IntraOpNumThreads = 1 };
        using var a1 = new InferenceSession(originalOnnx, so1);
        using var b1 = new InferenceSession(repairedOnnx, so1);
        using var c1 = leanOnnx is null ? null : new InferenceSession(leanOnnx, so1);
        var one = SingleImages(images, singles);
        var many = Rows(images, batch);
        var rows = images.Take(batch).ToArray();

        double OrtSingle(InferenceSession s, int reps) => SingleUs(s, inputName, one, reps);
        double OrtBatch(byte[] onnx, int reps) => BatchAlone(onnx, inputName, many, reps);
        double CoreSingleOriginal(int reps)
        {
            var clock = Stopwatch.StartNew();
            double sink = 0;
            for (int k = 0; k < reps; k++) sink += original.Evaluate(rows[k % singles])[0];
            GC.KeepAlive(sink);
            return clock.Elapsed.TotalMicroseconds / reps;
        }
        double CoreSingleRepaired(int reps)
        {
            var clock = Stopwatch.StartNew();
            double sink = 0;
            for (int k = 0; k < reps; k++) sink += repaired.Evaluate(rows[k % singles])[0];
            GC.KeepAlive(sink);
            return clock.Elapsed.TotalMicroseconds / reps;
        }
        double CoreBatch(Func<IReadOnlyList<double[]>, double[][]> f, int reps)
        {
            var clock = Stopwatch.StartNew();
            for (int k = 0; k < reps; k++) GC.KeepAlive(f(rows));
            return clock.Elapsed.TotalMilliseconds / reps;
        }

        // Warm-up (JIT, ORT arena, caches).
        OrtSingle(a1, 200); OrtSingle(b1, 200); OrtBatch(originalOnnx, 5); OrtBatch(repairedOnnx, 5);
        if (c1 is not null) { OrtSingle(c1, 200); OrtBatch(leanOnnx!, 5); }
        CoreSingleOriginal(200); CoreSingleRepaired(200); CoreBatch(original.EvaluateBatch, 2); CoreBatch(repaired.EvaluateBatch, 2);

        // Each round runs original, repaired, repaired, original (ABBA) so a drift in load hits both sides equally;
        // a figure is the median over rounds, a ratio the median of the per-round ratios.
        var t = new List<double>[10];
        for (int k = 0; k < t.Length; k++) t[k] = [];
        var ratios = new List<double>[6];
        for (int k = 0; k < ratios.Length; k++) ratios[k] = [];
        double Pair(Func<double> first, Func<double> second, List<double> ta, List<double> tb, List<double> ratio)
        {
            double a1 = first(), b1 = second(), b2 = second(), a2 = first();
            double a = 0.5 * (a1 + a2), b = 0.5 * (b1 + b2);
            ta.Add(a); tb.Add(b); ratio.Add(b / a);
            return b / a;
        }
        for (int r = 0; r < rounds; r++)
        {
            Pair(() => OrtSingle(a1, 3000), () => OrtSingle(b1, 3000), t[0], t[1], ratios[0]);
            Pair(() => OrtBatch(originalOnnx, 20), () => OrtBatch(repairedOnnx, 20), t[2], t[3], ratios[1]);
            Pair(() => CoreSingleOriginal(2000), () => CoreSingleRepaired(2000), t[4], t[5], ratios[2]);
            Pair(() => CoreBatch(original.EvaluateBatch, 5), () => CoreBatch(repaired.EvaluateBatch, 5), t[6], t[7], ratios[3]);
            if (c1 is not null)
            {
                var tmp = new List<double>();
                Pair(() => OrtSingle(a1, 3000), () => OrtSingle(c1!, 3000), tmp, t[8], ratios[4]);
                Pair(() => OrtBatch(originalOnnx, 20), () => OrtBatch(leanOnnx!, 20), tmp, t[9], ratios[5]);
            }
        }
        var m = t.Select(v => v.Count == 0 ? double.NaN : Median(v)).ToArray();
        var q = ratios.Select(v => v.Count == 0 ? double.NaN : Median(v)).ToArray();
        return new Figures(m[0], m[1], m[2], m[3], m[4], m[5], m[6], m[7], m[8], m[9], q[0], q[1], q[2], q[3], q[4], q[5]);
    }

    /// <summary>The first <paramref name="count"/> images as one float32 tensor <c>[count, n]</c>.</summary>
    internal static DenseTensor<float> Rows(double[][] images, int count)
    {
        int n = images[0].Length;
        var data = new float[count * n];
        for (int r = 0; r < count; r++) for (int i = 0; i < n; i++) data[r * n + i] = (float)images[r][i];
        return new DenseTensor<float>(data, [count, n]);
    }

    /// <summary>The first <paramref name="count"/> images, each as its own float32 tensor <c>[1, n]</c>.</summary>
    internal static DenseTensor<float>[] SingleImages(double[][] images, int count) =>
        Enumerable.Range(0, count).Select(k => new DenseTensor<float>(images[k].Select(v => (float)v).ToArray(), [1, images[k].Length])).ToArray();

    /// <summary>Microseconds per run of one image, cycling through <paramref name="inputs"/>.</summary>
    internal static double SingleUs(InferenceSession session, string inputName, DenseTensor<float>[] inputs, int reps)
    {
        var clock = Stopwatch.StartNew();
        for (int k = 0; k < reps; k++)
        {
            using var res = session.Run([NamedOnnxValue.CreateFromTensor(inputName, inputs[k % inputs.Length])]);
        }
        return clock.Elapsed.TotalMicroseconds / reps;
    }

    /// <summary>CPU microseconds of the calling thread per run of one image (one intra-op thread: ONNX Runtime runs the graph on the caller's thread).</summary>
    internal static double SingleCpuUs(InferenceSession session, string inputName, DenseTensor<float>[] inputs, int reps)
    {
        double start = CpuClock.ThreadUs();
        for (int k = 0; k < reps; k++)
        {
            using var res = session.Run([NamedOnnxValue.CreateFromTensor(inputName, inputs[k % inputs.Length])]);
        }
        return (CpuClock.ThreadUs() - start) / reps;
    }

    /// <summary>
    /// Process CPU milliseconds per run of a batch, with a session of its own whose pool threads do not spin while idle
    /// (so that its CPU time is its work), after three warm-up runs.
    /// </summary>
    internal static double BatchCpuMs(byte[] onnx, string inputName, DenseTensor<float> batch, int reps)
    {
        using var so = new SessionOptions();
        so.AddSessionConfigEntry("session.intra_op.allow_spinning", "0");
        using var session = new InferenceSession(onnx, so);
        for (int k = 0; k < 3; k++)
        {
            using var warm = session.Run([NamedOnnxValue.CreateFromTensor(inputName, batch)]);
        }
        double start = CpuClock.ProcessUs();
        for (int k = 0; k < reps; k++)
        {
            using var res = session.Run([NamedOnnxValue.CreateFromTensor(inputName, batch)]);
        }
        return (CpuClock.ProcessUs() - start) / 1000 / reps;
    }

    /// <summary>
    /// Milliseconds per run of a batch, with a session of its own that is disposed afterwards (its pool's threads
    /// joined), after three warm-up runs. Two sessions alive at once on this 2-core machine slow each other down: idle
    /// intra-op threads spin while the other session runs (2026-11-23: original 2.76 ms alone and 4.96 ms with the
    /// repaired session alive, ratio 1.36x alone and 1.19x together).
    /// </summary>
    internal static double BatchAlone(byte[] onnx, string inputName, DenseTensor<float> batch, int reps, Action<SessionOptions>? configure = null)
    {
        using var so = new SessionOptions();
        configure?.Invoke(so);
        using var session = new InferenceSession(onnx, so);
        for (int k = 0; k < 3; k++)
        {
            using var warm = session.Run([NamedOnnxValue.CreateFromTensor(inputName, batch)]);
        }
        var clock = Stopwatch.StartNew();
        for (int k = 0; k < reps; k++)
        {
            using var res = session.Run([NamedOnnxValue.CreateFromTensor(inputName, batch)]);
        }
        return clock.Elapsed.TotalMilliseconds / reps;
    }

    internal static double Median(List<double> v)
    {
        var s = v.Order().ToArray();
        return s.Length % 2 == 1 ? s[s.Length / 2] : 0.5 * (s[s.Length / 2 - 1] + s[s.Length / 2]);
    }
}
