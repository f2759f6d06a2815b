"""Process definitions: read a bundle of files, check it against Guantong's rules, store it as a version.

``bundle`` reads files; ``compiler`` validates and parses them (nothing touches the database);
``repository`` stores compiled versions and hands parsed specs back to the runtime.
"""
from .bundle import Bundle, load_bundle
from .compiler import CompiledBundle, compile_bundle

__all__ = ["Bundle", "load_bundle", "CompiledBundle", "compile_bundle"]
