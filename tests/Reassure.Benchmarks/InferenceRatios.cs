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
        double OrtSingleLeanUs, double OrtBatchLeanMs)
    {
        public double OrtSingleLean => OrtSingleLeanUs / OrtSingleOriginalUs;
        public double OrtBatchLean => OrtBatchLeanMs / OrtBatchOriginalMs;
        public double OrtSingle => OrtSingleRepairedUs / OrtSingleOriginalUs;
        public double OrtBatch => OrtBatchRepairedMs / OrtBatchOriginalMs;
        public double CoreSingle => CoreSingleRepairedUs / CoreSingleOriginalUs;
        public double CoreBatch => CoreBatchRepairedMs / CoreBatchOriginalMs;
    }

    public static Figures Measure(byte[] originalOnnx, byte[] repairedOnnx, string inputName, Network original, RepairedNetwork repaired, double[][] images, byte[]? leanOnnx = null, int rounds = 9)
    {
        int n = original.InputSize;
        const int batch = 1024;
        const int singles = 256;
        using var so = new SessionOptions();
        using var a = new InferenceSession(originalOnnx, so);
        using var b = new InferenceSession(repairedOnnx, so);
        using var c = leanOnnx is null ? null : new InferenceSession(leanOnnx, so);
        var one = new DenseTensor<float>[singles];
        for (int k = 0; k < singles; k++) one[k] = new DenseTensor<float>(images[k].Select(v => (float)v).ToArray(), [1, n]);
        var data = new float[batch * n];
        for (int r = 0; r < batch; r++) for (int i = 0; i < n; i++) data[r * n + i] = (float)images[r][i];
        var many = new DenseTensor<float>(data, [batch, n]);
        var rows = images.Take(batch).ToArray();

        double OrtSingle(InferenceSession s, int reps)
        {
            var clock = Stopwatch.StartNew();
            for (int k = 0; k < reps; k++)
            {
                using var res = s.Run([NamedOnnxValue.CreateFromTensor(inputName, one[k % singles])]);
            }
            return clock.Elapsed.TotalMicroseconds / reps;
        }
        double OrtBatch(InferenceSession s, int reps)
        {
            var clock = Stopwatch.StartNew();
            for (int k = 0; k < reps; k++)
            {
                using var res = s.Run([NamedOnnxValue.CreateFromTensor(inputName, many)]);
            }
            return clock.Elapsed.TotalMilliseconds / reps;
        }
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
        OrtSingle(a, 200); OrtSingle(b, 200); OrtBatch(a, 5); OrtBatch(b, 5);
        if (c is not null) { OrtSingle(c, 200); OrtBatch(c, 5); }
        CoreSingleOriginal(200); CoreSingleRepaired(200); CoreBatch(original.EvaluateBatch, 2); CoreBatch(repaired.EvaluateBatch, 2);

        var t = new List<double>[10];
        for (int k = 0; k < t.Length; k++) t[k] = [];
        for (int r = 0; r < rounds; r++)
        {
            t[0].Add(OrtSingle(a, 1000)); t[1].Add(OrtSingle(b, 1000));
            t[2].Add(OrtBatch(a, 10)); t[3].Add(OrtBatch(b, 10));
            t[4].Add(CoreSingleOriginal(500)); t[5].Add(CoreSingleRepaired(500));
            t[6].Add(CoreBatch(original.EvaluateBatch, 3)); t[7].Add(CoreBatch(repaired.EvaluateBatch, 3));
            if (c is not null) { t[8].Add(OrtSingle(c, 1000)); t[9].Add(OrtBatch(c, 10)); }
        }
        var m = t.Select(v => v.Count == 0 ? double.NaN : Median(v)).ToArray();
        return new Figures(m[0], m[1], m[2], m[3], m[4], m[5], m[6], m[7], m[8], m[9]);
    }

    private static double Median(List<double> v)
    {
        var s = v.Order().ToArray();
        return s.Length % 2 == 1 ? s[s.Length / 2] : 0.5 * (s[s.Length / 2 - 1] + s[s.Length / 2]);
    }
}
