using System.CommandLine;
using System.Globalization;
using Spectre.Console;

namespace Reassure.Cli.Commands;

/// <summary>`reassure inspect --model M`: layers (index, kind, in, out, relu, source tensors), input/output, parameter count, opset, and for a plain ONNX model the tensors `repair --layer` can cut at.</summary>
internal static class InspectCommand
{
    public static Command Create(TextWriter output, TextWriter error)
    {
        var model = new Option<string>("--model", "-m") { Description = "Model file (.onnx or .nnet).", Required = true };
        var command = new Command("inspect", "Show the layers of a model." + CliFiles.ExitCodes) { model };
        command.SetAction(parse => Run(parse.GetValue(model)!, output, error));
        return command;
    }

    public static int Run(string modelPath, TextWriter output, TextWriter error) => ReassureCli.Guard(error, () =>
    {
        var m = ModelFile.Load(modelPath);
        var net = m.Network;
        output.WriteLine($"Model: {Path.GetFileName(modelPath)} ({m.Format}, {m.Details})");
        output.WriteLine($"Input: {net.InputName} [{m.InputShape}]");
        output.WriteLine($"Output: {net.OutputName} [{m.OutputShape}]");
        if (m.Onnx?.StrippedOutputOperator is { } stripped)
            output.WriteLine($"Note: the trailing {stripped} was left out; the network's outputs are the scores it reads ('{m.Onnx.LogitsName}'). " +
                "Argmax/argmin decisions (labels, comparisons between outputs) are the same; a repaired file still ends in it.");
        output.WriteLine($"Architecture: {string.Join("/", net.Layers.Select(l => l.Outputs).Prepend(net.InputSize))}");
        var table = new Table().AddColumns("#", "kind", "in", "out", "relu", "weight", "bias", "pre-activation", "activation");
        for (int l = 0; l < net.Layers.Count; l++)
        {
            var layer = net.Layers[l];
            table.AddRow(
                l.ToString(CultureInfo.InvariantCulture), Markup.Escape((layer.IsDense ? "Dense" : layer.Map.Kind) + (layer.MaxPool is { } mp ? " + relu + " + mp.Kind : "")),
                layer.Inputs.ToString(CultureInfo.InvariantCulture), layer.Outputs.ToString(CultureInfo.InvariantCulture),
                layer.Relu ? "yes" : "no",
                Markup.Escape(layer.Names.Weight ?? "-"), Markup.Escape(layer.Names.Bias ?? "-"),
                Markup.Escape(layer.Names.PreActivation ?? "-"), Markup.Escape(layer.Names.Activation ?? "-"));
        }
        Consoles.For(output).Write(table);
        output.WriteLine($"Parameters: {net.ParameterCount.ToString(CultureInfo.InvariantCulture)}");
        output.WriteLine($"Hidden ReLU neurons: {net.HiddenCount.ToString(CultureInfo.InvariantCulture)}");
        if (m.Onnx is { } onnx && m.Repaired is null)
        {
            // The tensors `repair --layer` can cut the graph at (feature-space repair, method.md §13).
            output.WriteLine("Tensors (repair --layer NAME):");
            var tt = new Table().AddColumns("tensor", "op", "shape", "relus after", "layer");
            foreach (var t in Formats.Onnx.FeatureSplitter.Tensors(onnx))
                tt.AddRow(Markup.Escape(t.Name), Markup.Escape(t.Operator), Markup.Escape("[" + t.Shape + "]"),
                    t.Refusal is null ? t.SuffixRelus.ToString(CultureInfo.InvariantCulture) : "-",
                    Markup.Escape(t.Refusal is null ? "yes" : "no: " + t.Refusal));
            Consoles.For(output).Write(tt);
        }
        if (m.Repaired is { } r)
        {
            var patches = r.Repaired.Patches;
            output.WriteLine($"Patches: {patches.Count.ToString(CultureInfo.InvariantCulture)} (graph checked against the repair metadata; {r.Repaired.AddedParameters.ToString(CultureInfo.InvariantCulture)} added parameters)");
            var pt = new Table().AddColumns("#", "region", "support", "gamma", "norm", "kind", "spec");
            for (int p = 0; p < patches.Count; p++)
            {
                var gp = patches[p];
                string support = gp.Support.Pattern is not null
                    ? (gp.Support.Rows.Count == 0 ? "pattern" : $"pattern + {gp.Support.Rows.Count} rows")
                    : $"{gp.Support.Rows.Count} rows";
                string spec = r.Specs[p] is { } s ? $"{s.Rows} rows" : "-";
                pt.AddRow(p.ToString(CultureInfo.InvariantCulture), Markup.Escape(gp.Region.Pattern.Hash()), Markup.Escape(support),
                    gp.Support.Gamma.ToString("G4", CultureInfo.InvariantCulture), gp.Norm.ToString("G4", CultureInfo.InvariantCulture),
                    gp.Patch.C is null ? "constant" : "affine", Markup.Escape(spec));
            }
            Consoles.For(output).Write(pt);
        }
        return ReassureCli.Ok;
    });
}
