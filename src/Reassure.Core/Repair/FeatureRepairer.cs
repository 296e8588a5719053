using Reassure.Networks;
using Reassure.Patching;

namespace Reassure.Repair;

/// <summary>Evaluates a feature-space repair in float32 the way it runs after export: the whole graph on the network inputs.</summary>
public interface IFeatureFloat32Evaluator
{
    /// <summary>
    /// Outputs <c>[N, m]</c> of the original graph with <paramref name="suffix"/>'s patch network attached after the split
    /// tensor, for the network inputs <paramref name="inputs"/> (<c>[N, n]</c>, not features).
    /// </summary>
    double[][] Evaluate(FeatureSplit split, RepairedNetwork suffix, IReadOnlyList<double[]> inputs);
}

/// <summary>
/// Feature-space repair (method.md §13): REASSURE on the suffix network s of a <see cref="FeatureSplit"/>, over a box U
/// of features. Each buggy input x is mapped to its features u = phi(x); regions, patches, supports and the
/// independent check are those of s over U (every guarantee of <see cref="Repairer"/> holds in feature space); the
/// repaired model is s'(phi(x)). U is <see cref="FeatureSplit.Bounds"/> of the input domain unless given.
/// </summary>
public static class FeatureRepairer
{
    /// <summary>
    /// Repairs the network of <paramref name="split"/> at its tensor so that every buggy input meets its specification.
    /// <paramref name="options"/>.Domain is the input domain (of x); <paramref name="featureBox"/> (of u) replaces the
    /// bounds derived from it. With <see cref="RepairOptions.CheckFloat32"/> the float32 check runs the whole exported
    /// graph through <paramref name="float32"/> (required then; <see cref="RepairOptions.Float32Evaluator"/> is not used).
    /// </summary>
    public static FeatureRepairResult Repair(
        FeatureSplit split,
        IReadOnlyList<BuggyInput> inputs,
        RepairOptions? options = null,
        InputBox? featureBox = null,
        IFeatureFloat32Evaluator? float32 = null,
        IProgress<RepairProgress>? progress = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(split);
        ArgumentNullException.ThrowIfNull(inputs);
        options ??= new RepairOptions();
        if (options.CheckFloat32 && float32 is null)
            throw new ReassureException(ErrorCodes.InvalidOption,
                "value 'null' is out of range; expected the float32 evaluator of the whole exported graph (e.g. OnnxFeatureFloat32Evaluator), or CheckFloat32 = false",
                "FeatureRepairer.Repair float32");
        if (featureBox is not null && featureBox.Dimension != split.FeatureSize)
            throw new ReassureException(ErrorCodes.InvalidOption,
                $"the feature box has {featureBox.Dimension} dimensions; expected {split.FeatureSize} (the width of tensor '{split.Tensor}')", "feature box");

        var domain = options.Domain ?? split.Prefix.Domain ?? Repairer.DefaultDomain(split.Prefix, inputs);
        var box = featureBox ?? split.Bounds(domain);
        var errors = new Dictionary<int, InputStatus>();
        var valid = new List<int>();
        var featureInputs = new List<BuggyInput>();
        var map = new Dictionary<double[], double[]>(ReferenceEqualityComparer.Instance); // features -> input
        for (int i = 0; i < inputs.Count; i++)
        {
            var input = inputs[i];
            string name = Repairer.Name(inputs, i);
            if (input.Input.Length != split.InputSize)
            {
                errors[i] = Error(i, input, ErrorCodes.BadSpecification, $"Input {name} has {input.Input.Length} values; the network takes {split.InputSize}.");
                continue;
            }
            if (!domain.Contains(input.Input))
            {
                errors[i] = Error(i, input, ErrorCodes.InputOutsideDomain, $"Input {name} lies outside the repair domain box; widen RepairOptions.Domain.");
                continue;
            }
            var u = split.Features(input.Input);
            int outside = -1;
            for (int k = 0; k < u.Length && outside < 0; k++) if (u[k] < box.Lower[k] || u[k] > box.Upper[k]) outside = k;
            if (outside >= 0)
            {
                errors[i] = Error(i, input, ErrorCodes.InputOutsideDomain, string.Create(System.Globalization.CultureInfo.InvariantCulture,
                    $"The features of input {name} at tensor '{split.Tensor}' lie outside the feature box (feature {outside}: {u[outside]:R} not in [{box.Lower[outside]:R}, {box.Upper[outside]:R}]); widen the feature box."));
                continue;
            }
            valid.Add(i);
            featureInputs.Add(input with { Input = u });
            map[u] = input.Input;
        }

        // One affine layer after the tensor: a single linear region, so a region patch would change every input. The
        // patches are limited to local boxes instead (box supports, method.md §13), on the same map written with a
        // hidden layer that is linear on the feature box.
        bool affine = split.Suffix.HiddenCount == 0;
        var suffixOptions = options with
        {
            Domain = box,
            Float32Evaluator = float32 is null ? null : new MappedEvaluator(split, float32, map),
            LocalBox = affine ? options.LocalBox ?? DefaultLocalBox : options.LocalBox,
            Support = affine ? SupportKind.Box : options.Support,
        };
        var suffix = affine ? Lift(split.Suffix, box) : split.Suffix;
        var result = Repairer.Repair(suffix, featureInputs, suffixOptions, progress, cancellationToken);

        // Back to the caller's input indices.
        var statuses = new InputStatus[inputs.Count];
        foreach (var (i, status) in errors) statuses[i] = status;
        for (int k = 0; k < valid.Count; k++) statuses[valid[k]] = result.Inputs[k] with { Index = valid[k] };
        var patches = result.Patches.Select(p => p with { Inputs = p.Inputs.Select(k => valid[k]).ToList() }).ToList();
        return new FeatureRepairResult(split, box, new RepairResult(result.Network, statuses, patches, result.Timings, result.Specs));
    }

    /// <summary>The local box r used when the network after the tensor is one affine layer and the options give none.</summary>
    public const double DefaultLocalBox = 0.05;

    /// <summary>
    /// The affine map s(u) = W u + b written as a ReLU network that equals it everywhere, with one region over the box U:
    /// <code>
    ///   s(u) = [W, -W] relu([u - L; L - u]) + (b + W L)      L = U.lower - 1
    /// </code>
    /// (relu(t) - relu(-t) = t), so on U the first d neurons are active and the last d inactive.
    /// </summary>
    internal static Network Lift(Network affine, InputBox box)
    {
        var layer = affine.Layers[0];
        int d = layer.Inputs, m = layer.Outputs;
        var w = layer.Weights; // [m, d]
        var lower = box.Lower.Select(v => v - 1).ToArray();
        var w1 = new double[2 * d * d]; // [2d, d]
        var b1 = new double[2 * d];
        for (int k = 0; k < d; k++)
        {
            w1[k * d + k] = 1;
            w1[(d + k) * d + k] = -1;
            b1[k] = -lower[k];
            b1[d + k] = lower[k];
        }
        var w2 = new double[m * 2 * d]; // [m, 2d]
        var b2 = (double[])layer.Bias.Clone();
        for (int o = 0; o < m; o++)
        {
            for (int k = 0; k < d; k++)
            {
                w2[o * 2 * d + k] = w[o * d + k];
                w2[o * 2 * d + d + k] = -w[o * d + k];
                b2[o] += w[o * d + k] * lower[k];
            }
        }
        return new Network([new DenseLayer(d, 2 * d, w1, b1, relu: true), new DenseLayer(2 * d, m, w2, b2, relu: false, layer.Names)],
            affine.InputName, affine.OutputName);
    }

    private static InputStatus Error(int i, BuggyInput input, string code, string message) => new(i, input.Id, false, null, null, code, message);

    /// <summary>The float32 check of the suffix repair, run on the whole graph: features are mapped back to their inputs.</summary>
    private sealed class MappedEvaluator(FeatureSplit split, IFeatureFloat32Evaluator inner, Dictionary<double[], double[]> map) : IFloat32Evaluator
    {
        public double[][] Evaluate(RepairedNetwork network, IReadOnlyList<double[]> inputs) =>
            inner.Evaluate(split, network, inputs.Select(u => map.TryGetValue(u, out var x) ? x
                : throw new InvalidOperationException("The float32 check asked for features that are not a buggy input's.")).ToList());
    }
}

/// <summary>The result of <see cref="FeatureRepairer.Repair"/>: the suffix repair, in the caller's input order.</summary>
public sealed class FeatureRepairResult
{
    internal FeatureRepairResult(FeatureSplit split, InputBox featureBox, RepairResult suffix)
    {
        Split = split;
        FeatureBox = featureBox;
        Suffix = suffix;
    }

    /// <summary>The split the repair was built at.</summary>
    public FeatureSplit Split { get; }

    /// <summary>The box U of features the suffix repair holds on (its domain).</summary>
    public InputBox FeatureBox { get; }

    /// <summary>
    /// The repair of the suffix network over U: its network takes features; statuses and patch inputs are indexed like
    /// the buggy inputs given to <see cref="FeatureRepairer.Repair"/>.
    /// </summary>
    public RepairResult Suffix { get; }

    /// <summary>One status per buggy input, in input order.</summary>
    public IReadOnlyList<InputStatus> Inputs => Suffix.Inputs;

    /// <summary>Whether every input is fixed.</summary>
    public bool AllFixed => Suffix.AllFixed;

    /// <summary>
    /// The repaired model's output s'(phi(x)) in double, <c>[m]</c>: the original suffix's output where the features fall in
    /// no support (bit for bit, also when the repair ran on a rewritten suffix, see <see cref="FeatureRepairer"/>).
    /// </summary>
    public double[] Evaluate(ReadOnlySpan<double> x)
    {
        var u = Split.Features(x);
        return Suffix.Network.InAnySupport(u) ? Suffix.Network.Evaluate(u) : Split.Suffix.Evaluate(u);
    }

    /// <summary>
    /// The rows with every input replaced by its features phi(x) (labels and lines kept): what the suffix repair reads, so
    /// that figures computed on <see cref="Suffix"/>'s network (accuracy, output change) are those of the whole model.
    /// </summary>
    public Specifications.RowSet FeatureRows(Specifications.RowSet rows)
    {
        ArgumentNullException.ThrowIfNull(rows);
        var features = new double[rows.Count][];
        Parallel.For(0, rows.Count, r => features[r] = Split.Features(rows.Inputs[r]));
        return rows with { Inputs = features };
    }

    /// <summary>Whether the features of x fall in some support (only then can the output differ from the original).</summary>
    public bool InAnySupport(ReadOnlySpan<double> x) => Suffix.Network.InAnySupport(Split.Features(x));
}
