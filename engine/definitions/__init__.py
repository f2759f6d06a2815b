"""Process definitions: read a bundle of files, check it against Guantong's rules, store it as a version.

``bundle`` reads files; ``compiler`` validates and parses them (nothing touches the database);
``repository`` stores compiled versions and hands parsed specs back to the runtime.
"""

from engine.definitions.bundle import Bundle, load_bundle
from engine.definitions.compiler import CompiledBundle, compile_bundle

__all__ = ["Bundle", "CompiledBundle", "compile_bundle", "load_bundle"]
