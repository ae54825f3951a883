"""The deployment rehearsal: synthesize the stack, then boot its real parts with what the template gives.

Only AWS itself is replaced (secrets → local values in a Secrets Manager emulator, hosts → loopback,
CloudFormation intrinsics → those local values). See ``docs/rehearsal.md``; run with ``make rehearse``.
"""
