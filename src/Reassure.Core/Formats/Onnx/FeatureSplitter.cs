using Reassure.Formats.Onnx.Operators;
using Reassure.Formats.Onnx.Proto;
using Reassure.Networks;

namespace Reassure.Formats.Onnx;

/// <summary>A <see cref="FeatureSplit"/> of an ONNX model at one of its tensors, with the tensor's per-sample shape.</summary>
/// <param name="Model">The model that was cut.</param>
/// <param name="Split">Prefix and suffix networks.</param>
/// <param name="FeatureShape">Per-sample dims of the tensor (without the batch axis).</param>
public sealed record OnnxFeatureSplit(OnnxModel Model, FeatureSplit Split, IReadOnlyList<int> FeatureShape);

/// <summary>A tensor of an ONNX graph and whether a feature-space repair can cut the graph there.</summary>
/// <param name="Name">The tensor name (what `--layer` takes).</param>
/// <param name="Operator">The op_type of the node that writes it.</param>
/// <param name="Shape">Per-sample dims, comma-separated (batch axis left out).</param>
/// <param name="Width">Number of per-sample values (the feature width).</param>
/// <param name="SuffixRelus">Hidden ReLU neurons of the network after the tensor, when it can be cut there.</param>
/// <param name="Refusal">Why the graph cannot be cut there (RSR code and reason), null when it can.</param>
public sealed record SplitTensor(string Name, string Operator, string Shape, int Width, int SuffixRelus, string? Refusal);

/// <summary>
/// Cuts an ONNX graph at a named tensor u for feature-space repair (method.md §13) by importing it twice with the same
/// operator table as <see cref="OnnxImporter"/>: the nodes u depends on, from the graph input to u (the prefix: u is the
/// output of a Relu, or an affine function of the latest Relu's output), and the nodes the graph output depends on
/// after u, with u as their input (the suffix). Refused with RSR1058: a tensor computed before any Relu (repair in input
/// space instead), a constant, the graph output, or a graph whose nodes after u read a tensor from before it (a skip
/// connection). A name that no node writes is RSR1053 with the names that can be cut.
/// </summary>
public static class FeatureSplitter
{
    /// <summary>Cuts <paramref name="model"/> at tensor <paramref name="tensor"/>.</summary>
    public static OnnxFeatureSplit Split(OnnxModel model, string tensor)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentException.ThrowIfNullOrEmpty(tensor);
        var graph = model.Proto.Graph;
        if (!graph.Node.Any(n => n.Output.Contains(tensor)))
        {
            var names = Tensors(model, check: false).Select(t => "'" + t.Name + "'");
            throw new ReassureException(ErrorCodes.UnknownLayer,
                $"no node writes a tensor '{tensor}'; expected the name of a hidden tensor: {string.Join(", ", names)}", model.Source);
        }
        string where = $"{model.Source}, tensor '{tensor}'";
        if (tensor == model.OutputName || tensor == model.LogitsName)
            throw Refuse(where, "it is the graph output; expected a hidden tensor, before the last affine layer");

        // Prefix: input -> u.
        var ctx = NewContext(model);
        var prefixNodes = OnnxImporter.NodesFeeding(graph, tensor, ctx, model.Source);
        foreach (var node in prefixNodes) Run(ctx, node);
        if (ctx.Get(tensor) is not AffineValue u)
            throw Refuse(where, "it does not depend on the network input (a constant); expected a hidden tensor");
        if (ctx.Layers.Count == 0)
            throw Refuse(where, "it is computed before any Relu, so the features are an affine map of the input; repair in input space (no --layer) or choose a tensor after a Relu");
        if (u.Base != ctx.CurrentBase)
            throw Refuse(where, $"it depends on ReLU layer {u.Base} but a later ReLU layer has been closed; expected a plain chain of layers");
        bool reluOutput = u.Map is null && u.WeightName is null && u.Offset.All(v => v == 0);
        var prefixLayers = ctx.Layers.ToList();
        MaxPoolWindows? pool = null;
        if (reluOutput)
        {
            // u = relu(P(x)), or maxpool(relu(P(x))) after a MaxPool (the features are computed exactly; the suffix is
            // repaired over a box of them, method.md §12).
            var last = prefixLayers[^1];
            pool = last.MaxPool;
            prefixLayers[^1] = new Layer(last.Map, last.Bias, relu: false, last.Names);
        }

        else
        {
            prefixLayers.Add(new Layer(u.MapOrDenseIdentity(), (double[])u.Offset.Clone(), relu: false,
                new LayerNames(u.WeightName, u.BiasName, tensor, null)));
        }
        var prefix = new Network(prefixLayers, model.InputName, tensor);

        // Suffix: u -> output.
        var sctx = NewContext(model, (tensor, u.Shape));
        var nodes = OnnxImporter.NodesFeeding(graph, model.LogitsName, sctx, model.Source, stopAt: tensor); // a stripped trailing Softmax left out
        var before = new HashSet<string>(prefixNodes.SelectMany(n => n.Output), StringComparer.Ordinal) { model.InputName };
        before.Remove(tensor);
        var prefixSet = new HashSet<NodeProto>(prefixNodes, ReferenceEqualityComparer.Instance);
        foreach (var node in nodes.Where(n => !prefixSet.Contains(n)))
        {
            var read = node.Input.FirstOrDefault(before.Contains);
            if (read is not null)
                throw Refuse(where, $"node '{node.Name}' ({node.OpType}) after it reads tensor '{read}', which is computed before it (a skip connection); expected a tensor that cuts the graph in two");
        }
        var available = new HashSet<string>(graph.Initializer.Select(t => t.Name), StringComparer.Ordinal) { tensor };
        foreach (var node in nodes) foreach (var o in node.Output) available.Add(o);
        foreach (var node in nodes)
        {
            var missing = node.Input.FirstOrDefault(i => i.Length > 0 && !available.Contains(i));
            if (missing is not null)
                throw Refuse(where, $"node '{node.Name}' ({node.OpType}) after it reads tensor '{missing}', which is computed before it or is the graph input (a skip connection); expected a tensor that cuts the graph in two");
        }
        if (!nodes.Any(n => n.Input.Contains(tensor)))
            throw Refuse(where, "the graph output does not depend on it; expected a tensor on the path from the input to the output");
        foreach (var node in nodes) Run(sctx, node);
        var result = OnnxImporter.OutputValue(sctx, model.LogitsName, $"{model.Source}, graph output '{model.LogitsName}'");
        var suffixLayers = sctx.Layers.ToList();
        suffixLayers.Add(new Layer(result.MapOrDenseIdentity(), (double[])result.Offset.Clone(), relu: false,
            new LayerNames(result.WeightName, result.BiasName, model.LogitsName, null)));
        var suffix = new Network(suffixLayers, tensor, model.LogitsName);
        return new OnnxFeatureSplit(model, new FeatureSplit(tensor, prefix, reluOutput, suffix, pool), u.Shape);
    }

    /// <summary>
    /// The tensors of the graph that depend on the input, in evaluation order (the graph output left out), each with
    /// whether <see cref="Split"/> accepts it and, when not, why.
    /// </summary>
    public static IReadOnlyList<SplitTensor> Tensors(OnnxModel model) => Tensors(model, check: true);

    private static List<SplitTensor> Tensors(OnnxModel model, bool check)
    {
        ArgumentNullException.ThrowIfNull(model);
        var graph = model.Proto.Graph;
        var ctx = NewContext(model);
        var list = new List<SplitTensor>();
        foreach (var node in OnnxImporter.NodesFeeding(graph, model.LogitsName, ctx, model.Source))
        {
            Run(ctx, node);
            foreach (var o in node.Output)
            {
                if (o.Length == 0 || o == model.LogitsName || ctx.Get(o) is not AffineValue a) continue;
                string? refusal = null;
                int relus = 0;
                if (check)
                {
                    try { relus = Split(model, o).Split.Suffix.HiddenCount; }
                    catch (ReassureException e) { refusal = $"{e.Code}: {(e.Detail.StartsWith(RefusalLead, StringComparison.Ordinal) ? e.Detail[RefusalLead.Length..] : e.Detail)}"; }
                }
                list.Add(new SplitTensor(o, node.OpType, string.Join(",", a.Shape), a.Count, relus, refusal));
            }
        }
        return list;
    }

    private static ImportContext NewContext(OnnxModel model, (string Name, int[] Shape)? start = null)
    {
        var dims = model.InputShape.Split(',');
        var ctx = new ImportContext(model.Source, model.OpsetVersion, dims.Length > 0 && dims[0] == "1");
        foreach (var t in model.Proto.Graph.Initializer)
            ctx.Set(t.Name, TensorReader.Read(t, $"{model.Source}, initializer '{t.Name}'"));
        if (start is { } s) ctx.Set(s.Name, AffineValue.Identity(s.Shape, 0));
        else ctx.Set(model.InputName, AffineValue.Identity(dims.Skip(1).Select(d => int.Parse(d, System.Globalization.CultureInfo.InvariantCulture)).ToArray(), 0));
        return ctx;
    }

    private static void Run(ImportContext ctx, NodeProto node)
    {
        var handler = OperatorTable.Find(node)
            ?? throw ctx.Error(ErrorCodes.OnnxUnsupportedOperator, node,
                $"operator '{(node.Domain is "" ? "" : node.Domain + ".")}{node.OpType}' is not supported; expected one of {string.Join(", ", OperatorTable.Supported)}");
        handler(ctx, node);
    }

    private const string RefusalLead = "the network cannot be cut for feature-space repair at this tensor: ";

    private static ReassureException Refuse(string where, string why) => new(ErrorCodes.FeatureSplitUnsupported, RefusalLead + why, where);
}
