using System.Text.Json;
using Microsoft.ML.OnnxRuntime;

namespace Reassure.Benchmarks;

/// <summary>Where ONNX Runtime spends the time of a graph: its own profiler over batches of 1024, node time summed by operator type.</summary>
internal static class OrtProfile
{
    public static void Print(string label, byte[] onnx, string inputName, double[][] images, int batches = 20, int nodes = 8)
    {
        var tensor = InferenceRatios.Rows(images, 1024);
        string prefix = Path.Combine(Path.GetTempPath(), $"reassure-ort-profile-{Environment.ProcessId}-{label}");
        string file;
        using (var so = new SessionOptions { EnableProfiling = true, ProfileOutputPathPrefix = prefix })
        using (var session = new InferenceSession(onnx, so))
        {
            for (int k = 0; k < batches + 3; k++)
            {
                using var res = session.Run([NamedOnnxValue.CreateFromTensor(inputName, tensor)]);
            }
            file = session.EndProfiling();
        }
        var byOp = new Dictionary<string, double>();
        var byNode = new Dictionary<string, double>();
        double total = 0;
        using (var doc = JsonDocument.Parse(File.ReadAllText(file)))
        {
            foreach (var e in doc.RootElement.EnumerateArray())
            {
                if (!e.TryGetProperty("cat", out var cat) || cat.GetString() != "Node") continue;
                if (!e.GetProperty("name").GetString()!.EndsWith("_kernel_time", StringComparison.Ordinal)) continue;
                string op = e.GetProperty("args").TryGetProperty("op_name", out var o) ? o.GetString()! : "?";
                double us = e.GetProperty("dur").GetDouble();
                byOp[op] = byOp.GetValueOrDefault(op) + us;
                string node = e.GetProperty("name").GetString()!;
                byNode[node] = byNode.GetValueOrDefault(node) + us;
                total += us;
            }
        }
        File.Delete(file);
        Console.WriteLine($"  ORT profile, {label}: kernel time per batch of 1024 {total / (batches + 3) / 1000:F2} ms; by operator: " +
            string.Join(", ", byOp.OrderByDescending(kv => kv.Value).Take(8).Select(kv => $"{kv.Key} {100 * kv.Value / total:F0} %")));
        Console.WriteLine("    by node: " + string.Join(", ", byNode.OrderByDescending(kv => kv.Value).Take(nodes).Select(kv => $"{kv.Key.Replace("_kernel_time", "", StringComparison.Ordinal)} {kv.Value / (batches + 3):F0} us")));
    }

    /// <summary>
    /// Per-node time of single-image runs (one intra-op thread, cycling through the first 256 images): ONNX Runtime's
    /// profiler, microseconds per run for each node (kernel time, subgraph nodes included) and for the whole run.
    /// </summary>
    public static void PrintSingle(string label, byte[] onnx, string inputName, double[][] images, int runs = 3000, Action<SessionOptions>? configure = null)
    {
        var one = InferenceRatios.SingleImages(images, 256);
        string prefix = Path.Combine(Path.GetTempPath(), $"reassure-ort-profile1-{Environment.ProcessId}-{label}");
        string file;
        using (var so = new SessionOptions { EnableProfiling = true, ProfileOutputPathPrefix = prefix, IntraOpNumThreads = 1 })
        {
            configure?.Invoke(so);
            using var session = new InferenceSession(onnx, so);
            for (int k = 0; k < runs; k++)
            {
                using var res = session.Run([NamedOnnxValue.CreateFromTensor(inputName, one[k % one.Length])]);
            }
            file = session.EndProfiling();
        }
        var byNode = new Dictionary<string, (double Us, int Count, string Op)>();
        double total = 0, kernels = 0;
        int runEvents = 0;
        using (var doc = JsonDocument.Parse(File.ReadAllText(file)))
        {
            foreach (var e in doc.RootElement.EnumerateArray())
            {
                if (!e.TryGetProperty("cat", out var cat)) continue;
                string name = e.GetProperty("name").GetString()!;
                double us = e.GetProperty("dur").GetDouble();
                if (cat.GetString() == "Session" && name == "model_run") { total += us; runEvents++; continue; }
                if (cat.GetString() != "Node" || !name.EndsWith("_kernel_time", StringComparison.Ordinal)) continue;
                string op = e.GetProperty("args").TryGetProperty("op_name", out var o) ? o.GetString()! : "?";
                var node = name.Replace("_kernel_time", "", StringComparison.Ordinal);
                var (u, c, _) = byNode.GetValueOrDefault(node);
                byNode[node] = (u + us, c + 1, op);
                kernels += us;
            }
        }
        File.Delete(file);
        Console.WriteLine($"  ORT profile, single image, {label}: model_run {total / Math.Max(1, runEvents):F2} us, kernels {kernels / runs:F2} us per run, {byNode.Count} nodes ran; per node (us per run):");
        Console.WriteLine("    " + string.Join(", ", byNode.OrderByDescending(kv => kv.Value.Us).Select(kv => $"{kv.Key} [{kv.Value.Op}] {kv.Value.Us / runs:F2}{(kv.Value.Count != runs ? $" ({kv.Value.Count} runs)" : "")}")));
    }
}
