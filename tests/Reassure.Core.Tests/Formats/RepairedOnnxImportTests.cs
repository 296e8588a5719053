using System.Text.Json.Nodes;
using Google.Protobuf;
using Microsoft.ML.OnnxRuntime;
using Reassure.Formats.Onnx;
using Reassure.Formats.Onnx.Proto;
using Reassure.Networks;
using Reassure.Repair;
using Reassure.Specifications;

namespace Reassure.Tests.Formats;

/// <summary>
/// A repaired file is read as the graph that runs: the patch network its metadata names must be the graph's own
/// (node for node, tensor for tensor), else RSR1006; the metadata never decides.
/// </summary>
[TestClass]
public sealed class RepairedOnnxImportTests
{
    private static (byte[] Original, byte[] Repaired, RepairResult Result, List<BuggyInput> Buggy) Repaired()
    {
        var net = TinyNetworks.Deep();
        var original = OnnxExporter.ToBytes(net);
        var source = OnnxImporter.Load(original, "tiny.onnx");
        var buggy = new List<BuggyInput>();
        foreach (var x in TinyNetworks.RandomPoints(4000, 9))
        {
            int label = x[1] > 0.1 ? 0 : 1;
            if (TinyNetworks.ArgMax(net.Evaluate(x)) == label) continue;
            buggy.Add(new BuggyInput(x, new ClassificationSpecification(label, 0.01), $"p{buggy.Count}"));
            if (buggy.Count == 12) break;
        }
        var result = Repairer.Repair(source.Network, buggy, new RepairOptions { Float32Evaluator = OnnxRuntimeFloat32Evaluator.Instance, MaxDegreeOfParallelism = 1 });
        Assert.IsTrue(result.AllFixed);
        Assert.IsTrue(result.Network.Patches.Count >= 2);
        return (original, RepairedOnnxExporter.ToBytes(result.Network, source, result.Specs), result, buggy);
    }

    private static ModelProto Parse(byte[] bytes) => ModelProto.Parser.ParseFrom(bytes);

    private static void AssertMismatch(byte[] bytes, string because)
    {
        var e = Assert.ThrowsExactly<ReassureException>(() => RepairedOnnxImporter.TryLoad(bytes, "tampered.onnx"), because);
        Assert.AreEqual(ErrorCodes.RepairedGraphMismatch, e.Code, e.Message);
        StringAssert.Contains(e.Message, "tampered.onnx");
    }

    [TestMethod]
    public void GenuineFile_ReadsBack_WithItsPatchesAndSpecs()
    {
        var (_, bytes, result, buggy) = Repaired();
        var back = RepairedOnnxImporter.TryLoad(bytes, "r.onnx");
        Assert.IsNotNull(back);
        Assert.AreEqual(result.Network.Patches.Count, back.Repaired.Patches.Count);
        Assert.IsTrue(back.Specs.All(s => s is not null), "the exporter stores each patch's specification");
        foreach (var b in buggy)
            CollectionAssert.AreEqual(result.Network.Evaluate(b.Input), back.Repaired.Evaluate(b.Input));
    }

    [TestMethod]
    public void NegativeZeroBias_ImportsWithItsSign_AndTheRepairedFileReadsBack()
    {
        // A -0.0 bias used to be read as +0.0 (0 + -0 = +0), so the tool's own repaired file re-exported differently
        // and was refused as tampered (RSR1006).
        var deep = TinyNetworks.Deep();
        var layers = deep.Layers.Select((l, i) => i == 0
            ? new DenseLayer(l.Inputs, l.Outputs, l.Weights.ToArray(), l.Bias.Select((b, j) => j == 0 ? -0.0 : b).ToArray(), l.Relu)
            : l).ToList();
        var net = new Network(layers);
        var source = OnnxImporter.Load(OnnxExporter.ToBytes(net), "negzero.onnx");
        Assert.IsTrue(double.IsNegative(source.Network.Layers[0].Bias[0]), "the file's -0.0 bias is imported as -0.0");
        var buggy = TinyNetworks.RandomPoints(4000, 9)
            .Where(x => TinyNetworks.ArgMax(net.Evaluate(x)) != (x[1] > 0.1 ? 0 : 1)).Take(6)
            .Select((x, k) => new BuggyInput(x, new ClassificationSpecification(x[1] > 0.1 ? 0 : 1, 0.01), $"p{k}")).ToList();
        var result = Repairer.Repair(source.Network, buggy, new RepairOptions { CheckFloat32 = false, MaxDegreeOfParallelism = 1 });
        Assert.IsTrue(result.Network.Patches.Count > 0);
        var back = RepairedOnnxImporter.TryLoad(RepairedOnnxExporter.ToBytes(result.Network, source, result.Specs), "negzero-repaired.onnx");
        Assert.IsNotNull(back);
        Assert.AreEqual(result.Network.Patches.Count, back.Repaired.Patches.Count);
    }

    [TestMethod]
    public void PlainModel_IsNotARepairedModel()
    {
        var (original, _, _, _) = Repaired();
        Assert.IsNull(RepairedOnnxImporter.TryLoad(original, "plain.onnx"));
        Assert.IsFalse(RepairedOnnxImporter.IsRepaired(original));
    }

    [TestMethod]
    public void MetadataCopiedOntoTheUnrepairedGraph_IsRSR1006()
    {
        var (original, bytes, _, _) = Repaired();
        var plain = Parse(original);
        plain.MetadataProps.Add(Parse(bytes).MetadataProps.Single(p => p.Key == RepairMetadata.Key));
        AssertMismatch(plain.ToByteArray(), "the graph is the original one");
    }

    [TestMethod]
    public void PatchNodesRemoved_OutputWiredToTheOriginal_IsRSR1006()
    {
        var (_, bytes, _, _) = Repaired();
        var model = Parse(bytes);
        var graph = model.Graph;
        var keep = graph.Node.Where(n => !n.Name.StartsWith(RepairedOnnxExporter.Prefix, StringComparison.Ordinal)).ToList();
        graph.Node.Clear();
        graph.Node.AddRange(keep);
        graph.Node.Add(new NodeProto { OpType = "Identity", Name = "bypass", Input = { RepairedOnnxExporter.Prefix + "original_output" }, Output = { graph.Output[0].Name } });
        AssertMismatch(model.ToByteArray(), "the patch network is gone");
    }

    [TestMethod]
    public void PatchWeightZeroed_IsRSR1006_AndOnnxRuntimeIndeedRunsSomethingElse()
    {
        var (_, bytes, result, buggy) = Repaired();
        var model = Parse(bytes);
        var tensor = model.Graph.Node.Where(n => n.OpType == "If").SelectMany(n => n.Attribute).SelectMany(a => a.G?.Initializer ?? [])
            .Concat(model.Graph.Initializer)
            .First(t => t.Name.Contains("pfull", StringComparison.Ordinal) || t.Name.Contains("pdiff", StringComparison.Ordinal));
        tensor.RawData = ByteString.CopyFrom(new byte[tensor.RawData.Length]);
        var tampered = model.ToByteArray();
        AssertMismatch(tampered, "a patch weight was zeroed");
        // The tampered graph no longer fixes the rows: the check above is about real bytes.
        using var session = new InferenceSession(tampered);
        var y = OnnxRuntimeFloat32Evaluator.Run(session, result.Network.Original.InputName, 2, buggy.Select(b => b.Input).ToList());
        Assert.IsTrue(buggy.Select((b, k) => b.Spec.IsMetInFloat32(y[k])).Any(ok => !ok), "zeroed patches leave some row unfixed");
    }

    [TestMethod]
    public void MetadataDZeroed_GraphKept_IsRSR1006()
    {
        var (_, bytes, _, _) = Repaired();
        var model = Parse(bytes);
        var entry = model.MetadataProps.Single(p => p.Key == RepairMetadata.Key);
        var json = JsonNode.Parse(entry.Value)!;
        foreach (var p in json["patches"]!.AsArray()) p!["d"] = new JsonArray(p["d"]!.AsArray().Select(_ => (JsonNode?)JsonValue.Create(0.0)).ToArray());
        entry.Value = json.ToJsonString();
        AssertMismatch(model.ToByteArray(), "the metadata no longer names the graph's patches");
    }

    [TestMethod]
    public void PatchNodesWithoutMetadata_IsRSR1006()
    {
        var (_, bytes, _, _) = Repaired();
        var model = Parse(bytes);
        model.MetadataProps.Clear();
        AssertMismatch(model.ToByteArray(), "patch nodes cannot be read without the metadata");
    }

    [TestMethod]
    public void MetadataPatternOfTheWrongSize_IsRSR1006()
    {
        var (_, bytes, _, _) = Repaired();
        var model = Parse(bytes);
        var entry = model.MetadataProps.Single(p => p.Key == RepairMetadata.Key);
        var json = JsonNode.Parse(entry.Value)!;
        json["patches"]![0]!["pattern"] = "00";
        entry.Value = json.ToJsonString();
        AssertMismatch(model.ToByteArray(), "pattern bits do not fit the network");
    }

    [TestMethod]
    [DataRow("gamma", "1e999")]
    [DataRow("norm", "-1e999")]
    [DataRow("deadZone", "1.5")]
    public void MetadataWithANonFiniteOrOutOfRangeNumber_IsRSR1006(string field, string value)
    {
        // Found by the long fuzz run (CsCheck seed 8xMpMGK0mBK2): an infinite number in the metadata escaped as an
        // ArgumentException from the JSON writer when the patch network was exported again for the comparison.
        var (_, bytes, _, _) = Repaired();
        var model = Parse(bytes);
        var entry = model.MetadataProps.Single(p => p.Key == RepairMetadata.Key);
        var json = JsonNode.Parse(entry.Value)!;
        json["patches"]![0]![field] = JsonNode.Parse(value);
        entry.Value = json.ToJsonString();
        AssertMismatch(model.ToByteArray(), $"{field} = {value}");
    }

    [TestMethod]
    public void NetworkExport_FromANetworkWithoutSourceGraph_ReadsBack()
    {
        // NNet sources are exported from the network (net/ nodes); that form is read back as well.
        var (_, _, result, buggy) = Repaired();
        var bytes = RepairedOnnxExporter.ToBytes(result.Network, result.Specs);
        var back = RepairedOnnxImporter.TryLoad(bytes, "n.onnx")!;
        foreach (var b in buggy) Assert.IsTrue(b.Spec.IsMetBy(back.Repaired.Evaluate(b.Input)));
    }
}
