using System.Globalization;
using Reassure.Networks;

namespace Reassure.Formats.NNet;

/// <summary>
/// Reads Kyle Julian's .nnet text format (HorizontalCAS, ACAS Xu). Layout after the leading <c>//</c> comment lines:
/// (1) numLayers, inputSize, outputSize, maxLayerSize; (2) numLayers + 1 layer sizes; (3) an unused flag;
/// (4) n input minimums; (5) n input maximums; (6) n + 1 means (inputs, then output); (7) n + 1 ranges (inputs, then
/// output); then for each layer, one line per neuron with its weight row <c>[in]</c>, then one line per neuron with its
/// bias. Values are comma separated; trailing commas are inconsistent between lines, so empty tokens are dropped.
/// Numbers are parsed with the invariant culture. Errors: RSR1001 (missing file), RSR1010 (with file and line).
/// </summary>
public static class NNetReader
{
    /// <summary>Reads the .nnet file at <paramref name="path"/>.</summary>
    public static NNetModel Load(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        string[] lines;
        try
        {
            lines = File.ReadAllLines(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ReassureException(ErrorCodes.FileUnreadable, $"cannot read the .nnet file: {e.Message}", path, e);
        }
        return Parse(lines, Path.GetFileName(path));
    }

    /// <summary>Parses .nnet text; <paramref name="sourceName"/> names it in messages.</summary>
    public static NNetModel Parse(IReadOnlyList<string> lines, string sourceName)
    {
        var reader = new LineReader(lines, sourceName);
        reader.SkipComments();
        var header = reader.Numbers("the header (numLayers, inputSize, outputSize, maxLayerSize)", 4);
        int numLayers = reader.Count(header[0], "numLayers");
        int inputSize = reader.Count(header[1], "inputSize");
        int outputSize = reader.Count(header[2], "outputSize");
        var sizes = reader.Numbers("the layer sizes", numLayers + 1).Select((v, i) => reader.Count(v, $"layer size {i}")).ToArray();
        if (sizes[0] != inputSize || sizes[^1] != outputSize)
            throw reader.Error($"layer sizes start with {sizes[0]} and end with {sizes[^1]}; expected {inputSize} and {outputSize} from the header", -1);
        reader.Numbers("the flag line", 1);
        var mins = reader.Numbers("the input minimums", inputSize);
        var maxes = reader.Numbers("the input maximums", inputSize);
        var means = reader.Numbers("the means (inputs, then output)", inputSize + 1);
        var ranges = reader.Numbers("the ranges (inputs, then output)", inputSize + 1);
        var layers = new DenseLayer[numLayers];
        for (int l = 0; l < numLayers; l++)
        {
            int rows = sizes[l + 1], cols = sizes[l];
            var w = new double[rows * cols]; // [out, in]
            var b = new double[rows];
            for (int r = 0; r < rows; r++)
                reader.Numbers($"weight row {r} of layer {l}", cols).CopyTo(w, r * cols);
            for (int r = 0; r < rows; r++)
                b[r] = reader.Numbers($"bias {r} of layer {l}", 1)[0];
            layers[l] = new DenseLayer(cols, rows, w, b, relu: l < numLayers - 1);
        }
        reader.ExpectEnd();
        InputBox? domain = null;
        if (mins.Zip(maxes).All(p => p.First <= p.Second)) domain = new InputBox(mins, maxes);
        return new NNetModel(new Network(layers, domain: domain), mins, maxes, means, ranges, sourceName);
    }

    private sealed class LineReader(IReadOnlyList<string> lines, string source)
    {
        private int _next;

        public void SkipComments()
        {
            while (_next < lines.Count && (lines[_next].TrimStart().StartsWith("//", StringComparison.Ordinal) || lines[_next].Trim().Length == 0)) _next++;
        }

        public ReassureException Error(string message, int line) =>
            new(ErrorCodes.NNetMalformed, message, line > 0 ? $"{source}, line {line}" : source);

        public int Count(double value, string what)
        {
            if (value < 1 || value > int.MaxValue || value != Math.Floor(value))
                throw Error($"{what} is {value.ToString(CultureInfo.InvariantCulture)}; expected a positive integer", _next);
            return (int)value;
        }

        /// <summary>The next line as exactly <paramref name="expected"/> numbers.</summary>
        public double[] Numbers(string what, int expected)
        {
            while (_next < lines.Count && lines[_next].Trim().Length == 0) _next++;
            if (_next >= lines.Count)
                throw Error($"the file ends before {what}; expected {expected} more value(s)", lines.Count);
            int lineNo = ++_next;
            var tokens = lines[lineNo - 1].Split(',').Select(t => t.Trim()).Where(t => t.Length > 0).ToArray();
            if (tokens.Length != expected)
                throw Error($"{what}: found {tokens.Length} value(s); expected {expected}", lineNo);
            var values = new double[expected];
            for (int i = 0; i < expected; i++)
            {
                if (!double.TryParse(tokens[i], NumberStyles.Float, CultureInfo.InvariantCulture, out values[i]) || !double.IsFinite(values[i]))
                    throw Error($"{what}: value {i + 1} '{tokens[i]}' is not a finite number", lineNo);
            }
            return values;
        }

        public void ExpectEnd()
        {
            for (int i = _next; i < lines.Count; i++)
                if (lines[i].Trim().Length > 0) throw Error("unexpected content after the last layer; expected the end of the file", i + 1);
        }
    }
}
