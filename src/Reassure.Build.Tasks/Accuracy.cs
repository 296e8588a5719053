namespace Reassure.Build.Tasks;

/// <summary>Argmax classification accuracy of a model on labelled rows.</summary>
internal static class Accuracy
{
    /// <summary>The index of the largest output (the first one on ties).</summary>
    public static int ArgMax(ReadOnlySpan<double> y)
    {
        int best = 0;
        for (int i = 1; i < y.Length; i++) if (y[i] > y[best]) best = i;
        return best;
    }

    /// <summary>How many rows the model classifies as their label.</summary>
    public static int Correct(Func<double[], double[]> model, double[][] inputs, int[] labels)
    {
        int correct = 0;
        for (int r = 0; r < inputs.Length; r++) if (ArgMax(model(inputs[r])) == labels[r]) correct++;
        return correct;
    }

    /// <summary>A fraction as a percentage with two decimals, e.g. "98.50 %".</summary>
    public static string Percent(double fraction) => double.IsNaN(fraction) ? "n/a" :
        (fraction * 100).ToString("0.00", System.Globalization.CultureInfo.InvariantCulture) + " %";
}
