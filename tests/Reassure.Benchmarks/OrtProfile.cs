using System.Text.Json;
using Microsoft.ML.OnnxRuntime;

namespace Reassure.Benchmarks;

/// <summary>Where ONNX Runtime spends the time of a graph: its own profiler over batches of 1024, node time summed by operator type.</summary>
internal static class OrtProfile
{
    public static void Print(string label, byte[] onnx, string inputName, double[][] images, int batches = 20)
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
        Console.WriteLine("    by node: " + string.Join(", ", byNode.OrderByDescending(kv => kv.Value).Take(8).Select(kv => $"{kv.Key.Replace("_kernel_time", "", StringComparison.Ordinal)} {kv.Value / (batches + 3) / 1000:F2} ms")));
    }
}
