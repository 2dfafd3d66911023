"""``metacore episodic``: the unseen-class protocol on the command line (see ``episodic``)."""

from __future__ import annotations

import argparse
import sys

from metacore import cli


def add_episodic_parser(subparsers) -> None:
    """Register ``metacore episodic`` (called by ``metacore.cli``)."""
    p = subparsers.add_parser(
        "episodic", help="meta-train on base classes, test on N-way K-shot novel-class episodes")
    cli.add_data_args(p)
    cli.add_model_args(p)
    p.add_argument("--ways", type=int, default=5, help="classes per test episode (N)")
    p.add_argument("--shots", type=int, default=5, help="support examples per class (K)")
    p.add_argument("--queries", type=int, default=15, help="query examples per class")
    p.add_argument("--meta-train-episodes", type=int, default=None,
                   help="meta-training episodes (default: the method's own)")
    p.add_argument("--test-episodes", type=int, default=600,
                   help="test episodes drawn from the novel classes (default 600)")
    p.add_argument("--classes-split", default="column",
                   help="column (the file's split column: meta_train/meta_val/meta_test), "
                        "random (seeded), or meta_train=a,b;meta_val=c;novel=d,e")
    p.add_argument("--save-model", action="store_true",
                   help="save the meta-trained model, adapted to --shots examples of every "
                        "novel class, under OUT/model (Hugging Face format)")
    p.set_defaults(handler=cmd_episodic)


def cmd_episodic(args: argparse.Namespace) -> int:
    from metacore.episodic import EpisodicSpec, run_episodic

    for flag in ("ways", "shots", "queries", "test_episodes"):
        if getattr(args, flag) < 1:
            raise ValueError(f"--{flag.replace('_', '-')} must be at least 1.")
    spec = EpisodicSpec(
        data=args.data, method=args.method, backbone=args.backbone,
        method_config=cli.method_settings(args), text_col=args.text_col,
        label_col=args.label_col, n_way=args.ways, k_shot=args.shots, n_query=args.queries,
        meta_train_episodes=args.meta_train_episodes, test_episodes=args.test_episodes,
        seed=args.seed, classes_split=args.classes_split, device=args.device,
        allow_download=args.allow_download, out=args.out, save_model=args.save_model)
    with cli.ConsoleProgress(enabled=not args.quiet) as progress:
        result = run_episodic(spec, callbacks=[progress])
    cli.print_report(result)
    if args.out:
        print(f"\nWrote {args.out}/result.json", file=sys.stderr)
    return cli.EXIT_FAILED if result.status == "failed" else cli.EXIT_OK
