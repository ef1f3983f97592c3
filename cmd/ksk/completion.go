package main

import (
	"github.com/ksk-dev/ksk/signer"
	"github.com/spf13/cobra"
)

// Shell completion of flag values and arguments, beyond cobra's command
// and flag names: the output formats, the schemas of the signer
// configuration given with --config, ceremony scripts and YAML files.

func completeOutput(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
	return []string{"text\thuman-readable", "json\tone JSON object"}, cobra.ShellCompDirectiveNoFileComp
}

// completeSchemas lists the schemas of the configuration named by the
// command's --config flag, once given.
func completeSchemas(cmd *cobra.Command, _ []string, _ string) ([]string, cobra.ShellCompDirective) {
	path, _ := cmd.Flags().GetString("config")
	if path == "" {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	cfg, err := signer.LoadConfig(path)
	if err != nil {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	return cfg.SchemaNames(), cobra.ShellCompDirectiveNoFileComp
}

// completeYAML offers YAML files (ceremony scripts, configurations,
// rosters, answers files) and directories.
func completeYAML(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
	return []string{"yaml", "yml"}, cobra.ShellCompDirectiveFilterFileExt
}

// registerCompletions wires the completions into the command tree.
func registerCompletions(root *cobra.Command) {
	_ = root.RegisterFlagCompletionFunc("output", completeOutput)
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		if c.Flags().Lookup("schema") != nil && c.Flags().Lookup("config") != nil {
			_ = c.RegisterFlagCompletionFunc("schema", completeSchemas)
		}
		for _, name := range []string{"config", "answers", "roster"} {
			if c.Flags().Lookup(name) != nil {
				_ = c.RegisterFlagCompletionFunc(name, completeYAML)
			}
		}
		if p := c.Parent(); p != nil && p.Name() == "ceremony" && (c.Name() == "run" || c.Name() == "check" || c.Name() == "print") {
			c.ValidArgsFunction = func(_ *cobra.Command, args []string, _ string) ([]string, cobra.ShellCompDirective) {
				if len(args) > 0 {
					return nil, cobra.ShellCompDirectiveDefault
				}
				return []string{"yaml", "yml"}, cobra.ShellCompDirectiveFilterFileExt
			}
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)
}
